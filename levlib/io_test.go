package levlib_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib"
	"github.com/levstudy/levstudy/levlib/rankstat"
)

func tinyDataset(n int) *levlib.Dataset {
	ds := &levlib.Dataset{Pixels: make([]byte, n*784), Labels: make([]uint8, n), NumTrain: n - n/4,
		SHA256: map[string]string{}}
	for i := range ds.Labels {
		ds.Labels[i] = uint8(i % 10)
		for p := 0; p < 784; p += 7 + i%5 {
			ds.Pixels[i*784+p] = byte(40 * (i%6 + 1))
		}
	}
	for _, f := range levlib.MNISTFiles {
		ds.SHA256[f.Name] = f.SHA256
	}
	return ds
}

func TestLeverageCSVRoundTrip(t *testing.T) {
	ds := tinyDataset(8)
	scores := []float64{0.5, 1, 0, 1e-300, 0.1234567890123456789, 2.0 / 3, 0.25, 1e-5}
	path := filepath.Join(t.TempDir(), "out", "lev.csv")
	if err := levlib.WriteLeverageCSV(path, ds, scores); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	if lines[0] != "index,split,label,leverage" || lines[1] != "0,train,0,0.5" || lines[8] != "7,test,7,1e-05" {
		t.Errorf("unexpected CSV:\n%s", b)
	}
	tab, err := levlib.ReadLeverageCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		if tab.Scores[i] != s || tab.Index[i] != i || tab.Label[i] != i%10 || tab.Split[i] != ds.Split(i) {
			t.Errorf("row %d: %v %v %v %v", i, tab.Index[i], tab.Split[i], tab.Label[i], tab.Scores[i])
		}
	}
	if err := levlib.WriteLeverageCSV(path, ds, scores[:3]); err == nil {
		t.Error("3 scores for 8 rows: no error")
	}
}

func TestReadLeverageCSVErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"header", "i,s,l,v\n0,train,1,0.5\n", ":1: header"},
		{"nan", "index,split,label,leverage\n0,train,1,0.5\n1,train,2,NaN\n", ":3: leverage \"NaN\""},
		{"above one", "index,split,label,leverage\n0,train,1,1.5\n", ":2: leverage \"1.5\""},
		{"order", "index,split,label,leverage\n1,train,1,0.5\n", ":2: index \"1\", want 0"},
		{"split", "index,split,label,leverage\n0,val,1,0.5\n", ":2: split \"val\""},
		{"label", "index,split,label,leverage\n0,train,x,0.5\n", ":2: label \"x\""},
		{"fields", "index,split,label,leverage\n0,train,1\n", ":2:"},
		{"empty", "index,split,label,leverage\n", "no rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".csv")
			os.WriteFile(path, []byte(tc.body), 0o644)
			_, err := levlib.ReadLeverageCSV(path)
			var pe *levlib.ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a ParseError naming %s with %q", err, path, tc.want)
			}
		})
	}
}

// TestCache checks the round trip, that a corrupt entry is detected rather than trusted, and that the
// workspace recomputes it.
func TestCache(t *testing.T) {
	c := &levlib.Cache{Dir: t.TempDir()}
	m := &levlib.Matrix{Rows: 2, Cols: 3, Data: []float64{1, 2, 3, 4, 5, -6}}
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
	if _, err := c.Load("k", "key1", nil); !errors.Is(err, levlib.ErrCacheCorrupt) {
		t.Errorf("corrupt entry: got %v, want ErrCacheCorrupt", err)
	}
	os.WriteFile(path, b[:20], 0o644)
	if _, err := c.Load("k", "key1", nil); !errors.Is(err, levlib.ErrCacheCorrupt) {
		t.Errorf("truncated entry: got %v, want ErrCacheCorrupt", err)
	}
	var nilCache *levlib.Cache
	if got, err := nilCache.Load("k", "key1", nil); got != nil || err != nil || nilCache.Save("k", "x", m, nil) != nil {
		t.Error("nil cache should be a no-op")
	}

	// Workspace: computed, cached, corrupted, recomputed with a warning.
	ds := tinyDataset(40)
	var warnings []error
	dir := t.TempDir()
	newWorkspace := func() *levlib.Workspace { // a new process: nothing in memory, the disk cache shared
		return &levlib.Workspace{Backend: testBackend(t).Backend, Data: ds, Cache: &levlib.Cache{Dir: dir},
			Warn: func(err error) { warnings = append(warnings, err) }}
	}
	ws := newWorkspace()
	ctx := context.Background()
	r1, err := ws.Leverage(ctx, levlib.BasisSpec{Kind: levlib.KindRaw}, levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := newWorkspace().Leverage(ctx, levlib.BasisSpec{Kind: levlib.KindRaw}, levlib.LeverageOptions{})
	if err != nil || r2.Rank != r1.Rank || !hasWarning(r2.Warnings, levlib.ErrRankDeficient) {
		t.Fatalf("cached: %v rank %d vs %d, warnings %v", err, r2.Rank, r1.Rank, r2.Warnings)
	}
	if d, _ := maxAbsDiff(r1.Scores, r2.Scores); d != 0 {
		t.Errorf("cached scores differ by %g", d)
	}
	files, _ := filepath.Glob(filepath.Join(ws.Cache.Dir, "leverage", "*.bin"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	b, _ = os.ReadFile(files[0])
	b[len(b)-1] ^= 0x40
	os.WriteFile(files[0], b, 0o644)
	if r, err := ws.Leverage(ctx, levlib.BasisSpec{Kind: levlib.KindRaw}, levlib.LeverageOptions{}); err != nil || r != r1 || len(warnings) != 0 {
		t.Fatalf("the same workspace should answer from memory: %v, same %v, warnings %v", err, r == r1, warnings)
	}
	r3, err := newWorkspace().Leverage(ctx, levlib.BasisSpec{Kind: levlib.KindRaw}, levlib.LeverageOptions{})
	if err != nil || len(warnings) != 1 || !errors.Is(warnings[0], levlib.ErrCacheCorrupt) {
		t.Fatalf("corrupt: %v, warnings %v", err, warnings)
	}
	if d, _ := maxAbsDiff(r1.Scores, r3.Scores); d != 0 {
		t.Errorf("recomputed scores differ by %g", d)
	}
}

func TestTopBottomK(t *testing.T) {
	s := []float64{0.3, 0.9, 0.3, 0.1, 0.9, 0.5}
	if got := rankstat.TopK(s, 4); !equalInts(got, []int{1, 4, 5, 0}) {
		t.Errorf("TopK = %v", got)
	}
	if got := rankstat.BottomK(s, 3); !equalInts(got, []int{3, 0, 2}) {
		t.Errorf("BottomK = %v", got)
	}
	if got := rankstat.TopK(s, 100); len(got) != 6 {
		t.Errorf("TopK clipped = %v", got)
	}
}

// TestFigures checks that the grid and the curve are written as non-blank PNGs and as SVGs.
func TestFigures(t *testing.T) {
	ds := tinyDataset(60)
	scores := make([]float64, 60)
	for i := range scores {
		scores[i] = float64(i%13) / 13
	}
	dir := t.TempDir()
	for _, ext := range []string{".png", ".svg"} {
		grid := filepath.Join(dir, "grid"+ext)
		if err := levlib.DigitGrid(grid, ds, scores, rankstat.TopK(scores, 20), levlib.GridOptions{Rows: 2, Cols: 10, Title: "t"}); err != nil {
			t.Fatal(err)
		}
		curve := filepath.Join(dir, "curve"+ext)
		if err := levlib.ScoreCurve(curve, scores, "scores"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{grid, curve} {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if ext == ".svg" {
				if !bytes.Contains(b, []byte("<svg")) {
					t.Errorf("%s is not SVG", p)
				}
				continue
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			colors := map[uint32]bool{}
			bounds := img.Bounds()
			for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
				for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
					r, g, b, _ := img.At(x, y).RGBA()
					colors[r>>8<<16|g>>8<<8|b>>8] = true
				}
			}
			if len(colors) < 3 {
				t.Errorf("%s looks blank: %d colours", p, len(colors))
			}
		}
	}
	if err := levlib.ScoreCurve(filepath.Join(dir, "x.bmp"), scores, ""); err == nil {
		t.Error("unknown format: no error")
	}
}
