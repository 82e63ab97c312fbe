package levlib

import (
	"context"
	"errors"
	"fmt"

	"github.com/gomlx/gomlx/backends"
)

// Workspace ties together what the study's computations share: a backend, the data, a cache and a
// progress callback. The zero Cache caches nothing; a nil Progress is silent.
type Workspace struct {
	Backend  backends.Backend
	Data     *Dataset
	Cache    *Cache
	Progress func(Progress)
	// Warn, if not nil, receives problems that do not stop the work (e.g. a corrupt cache entry that is
	// being recomputed).
	Warn func(error)
}

func (w *Workspace) warn(err error) {
	if w.Warn != nil {
		w.Warn(err)
	}
}

// Basis builds the basis matrix of spec for w.Data.
func (w *Workspace) Basis(ctx context.Context, spec BasisSpec) (*Matrix, error) {
	m, err := spec.Build(ctx, w.Backend, w.Data, w.Progress)
	if err != nil {
		return nil, fmt.Errorf("basis %s: %w", spec, err)
	}
	return m, nil
}

// leverageMeta is what the cache stores beside the scores.
type leverageMeta struct {
	Rank           int       `json:"rank"`
	Tolerance      float64   `json:"tolerance"`
	SingularValues []float64 `json:"singular_values,omitempty"`
	Warnings       []string  `json:"warnings,omitempty"`
	RankDeficient  bool      `json:"rank_deficient"`
	Refined        bool      `json:"refined"`
}

// cachedWarning restores a warning read from the cache, keeping errors.Is(w, ErrRankDeficient).
type cachedWarning struct {
	msg           string
	rankDeficient bool
}

func (c cachedWarning) Error() string { return c.msg }
func (c cachedWarning) Is(target error) bool {
	return c.rankDeficient && target == ErrRankDeficient
}

// Leverage returns the leverage scores of basis spec on w.Data with opts.Method, from the cache when
// an entry for the same data, basis and method exists, else computed and cached.
func (w *Workspace) Leverage(ctx context.Context, spec BasisSpec, opts LeverageOptions) (*LeverageResult, error) {
	key := fmt.Sprintf("leverage %s basis=%s method=%s rtol=%g refine=%s", dataKey(w.Data), spec, opts.Method,
		opts.RelTolerance, opts.Refinement)
	var meta leverageMeta
	m, err := w.Cache.Load("leverage", key, &meta)
	switch {
	case err != nil:
		w.warn(fmt.Errorf("recomputing: %w", err))
	case m != nil:
		res := &LeverageResult{Scores: m.Data, Rank: meta.Rank, Tolerance: meta.Tolerance,
			SingularValues: meta.SingularValues, Method: opts.Method, Refined: meta.Refined}
		for _, s := range meta.Warnings {
			res.Warnings = append(res.Warnings, cachedWarning{s, meta.RankDeficient})
		}
		return res, nil
	}
	x, err := w.Basis(ctx, spec)
	if err != nil {
		return nil, err
	}
	if opts.Progress == nil {
		opts.Progress = w.Progress
	}
	res, err := LeverageScores(ctx, w.Backend, x, opts)
	if err != nil {
		return nil, fmt.Errorf("leverage of basis %s: %w", spec, err)
	}
	meta = leverageMeta{Rank: res.Rank, Tolerance: res.Tolerance, SingularValues: res.SingularValues, Refined: res.Refined}
	for _, wr := range res.Warnings {
		meta.Warnings = append(meta.Warnings, wr.Error())
		meta.RankDeficient = meta.RankDeficient || errors.Is(wr, ErrRankDeficient)
	}
	if err := w.Cache.Save("leverage", key, &Matrix{Rows: len(res.Scores), Cols: 1, Data: res.Scores}, meta); err != nil {
		w.warn(fmt.Errorf("not cached: %w", err))
	}
	return res, nil
}
