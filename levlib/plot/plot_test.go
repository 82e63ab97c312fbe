package plot_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/plot"
	"github.com/levstudy/levstudy/levlib/rankstat"
)

// TestFigures checks that the grid and the curve are written as non-blank PNGs and as SVGs.
func TestFigures(t *testing.T) {
	ds := testutil.TinyDataset(60)
	scores := make([]float64, 60)
	for i := range scores {
		scores[i] = float64(i%13) / 13
	}
	dir := t.TempDir()
	for _, ext := range []string{".png", ".svg"} {
		grid := filepath.Join(dir, "grid"+ext)
		if err := plot.DigitGrid(grid, ds, scores, rankstat.TopK(scores, 20), plot.GridOptions{Rows: 2, Cols: 10, Title: "t"}); err != nil {
			t.Fatal(err)
		}
		curve := filepath.Join(dir, "curve"+ext)
		if err := plot.ScoreCurve(curve, scores, "scores"); err != nil {
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
	if err := plot.ScoreCurve(filepath.Join(dir, "x.bmp"), scores, ""); err == nil {
		t.Error("unknown format: no error")
	}
}
