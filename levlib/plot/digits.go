package plot

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"slices"

	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/mnist"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// GridOptions configures DigitGrid. The zero value draws all given digits in 10 columns (the seed
// notebook's layout: 300 digits are 30 rows of 10).
type GridOptions struct {
	// Cols of the grid (0 means 10) and Rows (0: as many as the digits need).
	Rows, Cols int
	// Title above the grid.
	Title string
}

// DigitGrid draws the images of rows idx of ds, sorted by label (then by decreasing score), each titled
// "Label: d (score)" with 4 decimals, as in the seed notebook's cell 5, in type large enough to read at
// 100% zoom. It is an error if an index is outside ds or scores has fewer values than ds has rows.
func DigitGrid(ds *mnist.Dataset, scores []float64, idx []int, opts GridOptions) (*Figure, error) {
	if len(scores) != ds.N() {
		return nil, fmt.Errorf("digit grid %q: %d scores for %d images", opts.Title, len(scores), ds.N())
	}
	for _, i := range idx {
		if i < 0 || i >= ds.N() {
			return nil, fmt.Errorf("digit grid %q: row %d outside the %d images", opts.Title, i, ds.N())
		}
	}
	cols := cmp.Or(opts.Cols, 10)
	rows := cmp.Or(opts.Rows, max(1, (len(idx)+cols-1)/cols))
	sorted := slices.Clone(idx)
	slices.SortStableFunc(sorted, func(a, b int) int {
		return cmp.Or(cmp.Compare(ds.Labels[a], ds.Labels[b]), cmp.Compare(scores[b], scores[a]))
	})
	if len(sorted) > rows*cols {
		sorted = sorted[:rows*cols]
	}
	const cellW, imgSide, labelH, titleH = 78.0, 48.0, 13.0, 26.0
	w := vg.Length(cellW * float64(cols))
	h := vg.Length(titleH + (imgSide+labelH+3)*float64(rows))
	return newFigure(opts.Title, w, h, func(dc draw.Canvas) error {
		small := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 9.5), XAlign: draw.XCenter,
			YAlign: draw.YBottom, Handler: plot.DefaultTextHandler}
		title := small
		title.Font = font.From(plot.DefaultFont, 13)
		dc.FillText(title, vg.Point{X: w / 2, Y: h - titleH + 6}, opts.Title)
		for k, i := range sorted {
			r, col := k/cols, k%cols
			x0 := vg.Length(cellW*float64(col) + (cellW-imgSide)/2)
			yTop := h - vg.Length(titleH+(imgSide+labelH+3)*float64(r))
			dc.FillText(small, vg.Point{X: x0 + imgSide/2, Y: yTop - labelH + 1}, fmt.Sprintf("Label: %d (%.4f)", ds.Labels[i], scores[i]))
			rect := vg.Rectangle{Min: vg.Point{X: x0, Y: yTop - labelH - imgSide}, Max: vg.Point{X: x0 + imgSide, Y: yTop - labelH}}
			dc.DrawImage(rect, digitImage(ds, i, 2))
		}
		return nil
	}), nil
}

// digitImage returns image i of ds, white on black, upscaled by an integer factor (nearest neighbour).
func digitImage(ds *mnist.Dataset, i, up int) image.Image {
	img := image.NewGray(image.Rect(0, 0, mnist.ImageSide*up, mnist.ImageSide*up))
	px := ds.Pixels[i*mnist.ImagePixels : (i+1)*mnist.ImagePixels]
	for y := 0; y < mnist.ImageSide*up; y++ {
		for x := 0; x < mnist.ImageSide*up; x++ {
			img.Pix[y*img.Stride+x] = px[(y/up)*mnist.ImageSide+x/up]
		}
	}
	return img
}

// ScoreCurve plots the scores sorted in decreasing order against their rank, with a log y axis (the
// seed's distribution plot). Zero scores cannot be drawn on a log axis; their count goes in the legend.
func ScoreCurve(scores []float64, title string) (*Figure, error) {
	sorted := slices.Clone(scores)
	slices.SortFunc(sorted, func(a, b float64) int { return cmp.Compare(b, a) })
	pts := make(plotter.XYs, 0, len(sorted))
	zeros := 0
	for i, s := range sorted {
		if s <= 0 {
			zeros++
			continue
		}
		pts = append(pts, plotter.XY{X: float64(i + 1), Y: s})
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "rank (1 = highest leverage)"
	p.Y.Label.Text = "leverage score"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	if len(pts) > 0 {
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("figure %q: %w", title, err)
		}
		line.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
		line.Width = vg.Points(1.5)
		p.Add(line)
		label := fmt.Sprintf("sorted scores (N = %d, Σ = %.2f)", len(scores), xslices.Sum(scores))
		if zeros > 0 {
			label += fmt.Sprintf("; %d zeros not shown", zeros)
		}
		p.Legend.Add(label, line)
		p.Legend.Top = true
	}
	return newFigure(title, 7*vg.Inch, 4.5*vg.Inch, func(dc draw.Canvas) error {
		p.Draw(dc)
		return nil
	}), nil
}
