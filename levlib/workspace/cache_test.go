package workspace_test

import (
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
	if got, err := c.Load("k", "key1", nil); got != nil || err != nil {
		t.Fatalf("empty cache: %v %v", got, err)
	}
	if err := c.Save("k", "key1", m, meta{7}); err != nil {
		t.Fatal(err)
	}
	var mt meta
	got, err := c.Load("k", "key1", &mt)
	if err != nil || got.Rows != 2 || got.Cols != 3 || got.Data[5] != -6 || mt.Rank != 7 {
		t.Fatalf("round trip: %+v %v %+v", got, err, mt)
	}
	// Flip one payload byte.
	path := c.Path("k", "key1")
	b, _ := os.ReadFile(path)
	b[len(b)-3] ^= 1
	os.WriteFile(path, b, 0o644)
	if _, err := c.Load("k", "key1", nil); !errors.Is(err, workspace.ErrCacheCorrupt) {
		t.Errorf("corrupt entry: got %v, want ErrCacheCorrupt", err)
	}
	os.WriteFile(path, b[:20], 0o644)
	if _, err := c.Load("k", "key1", nil); !errors.Is(err, workspace.ErrCacheCorrupt) {
		t.Errorf("truncated entry: got %v, want ErrCacheCorrupt", err)
	}
	var nilCache *workspace.Cache
	if got, err := nilCache.Load("k", "key1", nil); got != nil || err != nil || nilCache.Save("k", "x", m, nil) != nil {
		t.Error("nil cache should be a no-op")
	}

	// Workspace: computed, cached, corrupted, recomputed with a warning.
	ds := testutil.TinyDataset(40)
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
	b, _ = os.ReadFile(files[0])
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
