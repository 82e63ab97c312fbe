// Package workspace computes each of the study's expensive results once: a Workspace ties a GoMLX
// backend, the data, an on-disk Cache and a progress callback, and its methods return a basis's
// matrix (Basis), a trained network (CNN), its embedding (Embedding) and a basis's leverage
// (Leverage, LeverageOfRows) — from memory, from the cache, or computed and cached. Cache entries are
// keyed by everything that produced them, written atomically and checksummed: a damaged one is
// recomputed with a warning, never trusted.
//
//	ws := &workspace.Workspace{Backend: b, Data: ds, Cache: &workspace.Cache{Dir: workspace.DefaultCacheDir()}}
//	lev, err := ws.Leverage(ctx, basis.Spec{Kind: basis.KindRaw}, leverage.Options{})
package workspace
