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
		g, err := plot.DigitGrid(ds, scores, rankstat.TopK(scores, 20), plot.GridOptions{Rows: 2, Cols: 10, Title: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Save(grid); err != nil {
			t.Fatal(err)
		}
		curve := filepath.Join(dir, "curve"+ext)
		c, err := plot.ScoreCurve(scores, "scores")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Save(curve); err != nil {
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
	c, err := plot.ScoreCurve(scores, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(filepath.Join(dir, "x.bmp")); err == nil {
		t.Error("unknown format: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.bmp")); err == nil {
		t.Error("a failed figure left a file")
	}
	// Bad input is an error before anything is drawn.
	if _, err := plot.DigitGrid(ds, scores, []int{60}, plot.GridOptions{}); err == nil {
		t.Error("row 60 of 60 images: no error")
	}
	if _, err := plot.DigitGrid(ds, scores[:10], []int{1}, plot.GridOptions{}); err == nil {
		t.Error("10 scores for 60 images: no error")
	}
	if _, err := plot.Heatmap("h", []string{"a", "b"}, [][]float64{{1, 0}}); err == nil {
		t.Error("1 row of values for 2 labels: no error")
	}
	if _, err := plot.LinePlot("l", plot.PlotOptions{}, []plot.Curve{{Label: "c", X: []float64{1, 2}, Y: []float64{1}}}); err == nil {
		t.Error("2 x and 1 y: no error")
	}
	// The PNG bytes a notebook displays are the bytes Save writes.
	png1, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(filepath.Join(dir, "c.png")); err != nil {
		t.Fatal(err)
	}
	if png2, _ := os.ReadFile(filepath.Join(dir, "c.png")); !bytes.Equal(png1, png2) {
		t.Error("PNG() and Save differ")
	}
}
