package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// TestCache checks the round trip, that a corrupt entry is detected rather than trusted, and that the
// workspace recomputes it.
func TestCache(t *testing.T) {
	c := &workspace.Cache{Dir: t.TempDir()}
	m := &matrixio.Matrix{Rows: 2, Cols: 3, Data: []float64{1, 2, 3, 4, 5, -6}}
	type meta struct{ Rank int }
	if got, ok, err := c.LoadMatrix("k", "key1", nil); got != nil || ok || err != nil {
		t.Fatalf("empty cache: %v %v %v", got, ok, err)
	}
	if err := c.SaveMatrix("k", "key1", m, meta{7}); err != nil {
		t.Fatal(err)
	}
	var mt meta
	got, ok, err := c.LoadMatrix("k", "key1", &mt)
	if err != nil || !ok || got.Rows != 2 || got.Cols != 3 || got.Data[5] != -6 || mt.Rank != 7 {
		t.Fatalf("round trip: %+v %v %v %+v", got, ok, err, mt)
	}
	path := c.Path("k", "key1")
	orig, _ := os.ReadFile(path)
	corrupt := func(name string, b []byte) {
		t.Helper()
		os.WriteFile(path, b, 0o644)
		if _, ok, err := c.LoadMatrix("k", "key1", &mt); ok || !errors.Is(err, workspace.ErrCacheCorrupt) {
			t.Errorf("%s: got ok %v, %v, want ErrCacheCorrupt", name, ok, err)
		}
	}
	flip := bytes.Clone(orig)
	flip[len(flip)-3] ^= 1
	corrupt("a payload byte flipped", flip)
	corrupt("truncated", orig[:20])
	// The metadata is covered by the checksum: an edited rank is not trusted.
	corrupt("metadata edited", bytes.Replace(orig, []byte(`"Rank":7`), []byte(`"Rank":6`), 1))
	// A header claiming a huge shape is refused before anything is allocated (3000+2^61 rows).
	corrupt("absurd rows", bytes.Replace(orig, []byte(`"rows":2`), []byte(`"rows":2305843009213696952`), 1))
	os.WriteFile(path, orig, 0o644)
	if _, ok, err := c.LoadMatrix("k", "key1", nil); !ok || err != nil {
		t.Fatalf("restored entry: %v %v", ok, err)
	}
	// An entry of the previous format is a miss, not an error.
	os.WriteFile(path, []byte("levstudy-cache-v1\n{}\n"), 0o644)
	if _, ok, err := c.LoadMatrix("k", "key1", nil); ok || err != nil {
		t.Errorf("old format: ok %v, %v; want a miss", ok, err)
	}

	// Value entries: a typed result without a matrix.
	type result struct {
		Tau   float64 `json:"tau"`
		Bases []string
	}
	if err := c.SaveValue("v", "key2", result{0.5, []string{"raw"}}); err != nil {
		t.Fatal(err)
	}
	var r result
	if ok, err := c.LoadValue("v", "key2", &r); !ok || err != nil || r.Tau != 0.5 || r.Bases[0] != "raw" {
		t.Fatalf("value round trip: %v %v %+v", ok, err, r)
	}
	if ok, err := c.LoadValue("v", "other", &r); ok || err != nil {
		t.Errorf("missing value: %v %v", ok, err)
	}
	vpath := c.Path("v", "key2")
	vb, _ := os.ReadFile(vpath)
	os.WriteFile(vpath, bytes.Replace(vb, []byte(`"tau":0.5`), []byte(`"tau":0.9`), 1), 0o644)
	if ok, err := c.LoadValue("v", "key2", &r); ok || !errors.Is(err, workspace.ErrCacheCorrupt) {
		t.Errorf("edited value: ok %v, %v; want ErrCacheCorrupt", ok, err)
	}
	var nilCache *workspace.Cache
	if got, ok, err := nilCache.LoadMatrix("k", "key1", nil); got != nil || ok || err != nil || nilCache.SaveMatrix("k", "x", m, nil) != nil || nilCache.SaveValue("k", "x", 1) != nil {
		t.Error("nil cache should be a no-op")
	}

	// Workspace: computed, cached, corrupted, recomputed with a warning.
	ds := testutil.TinyDataset(900)
	var warnings []error
	dir := t.TempDir()
	newWorkspace := func() *workspace.Workspace { // a new process: nothing in memory, the disk cache shared
		return &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds, Cache: &workspace.Cache{Dir: dir},
			Warn: func(err error) { warnings = append(warnings, err) }}
	}
	ws := newWorkspace()
	ctx := context.Background()
	r1, err := ws.Leverage(ctx, basis.Spec{Kind: basis.KindRaw}, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := newWorkspace().Leverage(ctx, basis.Spec{Kind: basis.KindRaw}, leverage.Options{})
	if err != nil || r2.Rank != r1.Rank || !testutil.HasWarning(r2.Warnings, leverage.ErrRankDeficient) {
		t.Fatalf("cached: %v rank %d vs %d, warnings %v", err, r2.Rank, r1.Rank, r2.Warnings)
	}
	if d, _ := testutil.MaxAbsDiff(r1.Scores, r2.Scores); d != 0 {
		t.Errorf("cached scores differ by %g", d)
	}
	files, _ := filepath.Glob(filepath.Join(ws.Cache.Dir, "leverage", "*.bin"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	b[len(b)-1] ^= 0x40
	os.WriteFile(files[0], b, 0o644)
	if r, err := ws.Leverage(ctx, basis.Spec{Kind: basis.KindRaw}, leverage.Options{}); err != nil || r != r1 || len(warnings) != 0 {
		t.Fatalf("the same workspace should answer from memory: %v, same %v, warnings %v", err, r == r1, warnings)
	}
	r3, err := newWorkspace().Leverage(ctx, basis.Spec{Kind: basis.KindRaw}, leverage.Options{})
	if err != nil || len(warnings) != 1 || !errors.Is(warnings[0], workspace.ErrCacheCorrupt) {
		t.Fatalf("corrupt: %v, warnings %v", err, warnings)
	}
	if d, _ := testutil.MaxAbsDiff(r1.Scores, r3.Scores); d != 0 {
		t.Errorf("recomputed scores differ by %g", d)
	}
}
