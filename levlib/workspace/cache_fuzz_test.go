package workspace_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// entryBytes returns the bytes of a cache entry holding m with metadata meta.
func entryBytes(t testing.TB, m *matrixio.Matrix, meta any) []byte {
	c := &workspace.Cache{Dir: t.TempDir()}
	if err := c.SaveMatrix("k", "key", m, meta); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(c.Path("k", "key"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCacheEntryNotRegular checks that an entry path that is a named pipe is reported as corrupt at
// once (reading it would block), so the caller recomputes and replaces it.
func TestCacheEntryNotRegular(t *testing.T) {
	c := &workspace.Cache{Dir: t.TempDir()}
	p := c.Path("k", "key")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	_, ok, err := c.LoadMatrix("k", "key", nil)
	if ok || !errors.Is(err, workspace.ErrCacheCorrupt) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("named pipe entry: ok %v, %v", ok, err)
	}
}

// FuzzCacheLoad loads arbitrary bytes as a cache entry: no panic; the result is a miss, an error
// wrapping ErrCacheCorrupt, or a well-formed matrix that saves and loads back bit for bit.
func FuzzCacheLoad(f *testing.F) {
	f.Add(entryBytes(f, &matrixio.Matrix{Rows: 2, Cols: 3, Data: []float64{1, 2, 3, 4, 5, -6}}, map[string]int{"rank": 2}))
	f.Add(entryBytes(f, &matrixio.Matrix{Rows: 0, Cols: 0}, []int{1, 2}))
	f.Add([]byte("levstudy-cache-v2\n{\"key\":\"key\",\"version\":\"2\",\"rows\":2305843009213696952,\"cols\":1,\"sha256\":\"\"}\n"))
	f.Add([]byte("levstudy-cache-v1\n{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &workspace.Cache{Dir: t.TempDir()}
		p := c.Path("k", "key")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var v any
		if _, err := c.LoadValue("k", "key", &v); err != nil && !errors.Is(err, workspace.ErrCacheCorrupt) {
			t.Errorf("LoadValue: %v does not wrap ErrCacheCorrupt", err)
		}
		m, ok, err := c.LoadMatrix("k", "key", nil)
		if err != nil && !errors.Is(err, workspace.ErrCacheCorrupt) {
			t.Errorf("LoadMatrix: %v does not wrap ErrCacheCorrupt", err)
		}
		if !ok {
			return
		}
		if m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
			t.Fatalf("accepted %d×%d with %d values", m.Rows, m.Cols, len(m.Data))
		}
		if err := c.SaveMatrix("k", "key", m, nil); err != nil {
			t.Fatal(err)
		}
		m2, ok, err := c.LoadMatrix("k", "key", nil)
		if !ok || err != nil || m2.Rows != m.Rows || m2.Cols != m.Cols {
			t.Fatalf("round trip: %v %v", ok, err)
		}
		for i := range m.Data {
			if math.Float64bits(m.Data[i]) != math.Float64bits(m2.Data[i]) {
				t.Fatalf("value %d changed in the round trip", i)
			}
		}
	})
}
