package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Heatmap draws an annotated matrix (values in [−1, 1], blue–white–red) with row and column labels.
// NaN cells are grey. values must be n×n for n labels.
func Heatmap(title string, labels []string, values [][]float64) (*Figure, error) {
	n := len(labels)
	if len(values) != n {
		return nil, fmt.Errorf("heatmap %q: %d rows of values for %d labels", title, len(values), n)
	}
	for i, r := range values {
		if len(r) != n {
			return nil, fmt.Errorf("heatmap %q: row %d has %d values for %d labels", title, i, len(r), n)
		}
	}
	const cell, margin, titleH = 34.0, 70.0, 24.0
	w := vg.Length(math.Max(margin+cell*float64(n)+10, 420))
	h := vg.Length(titleH + margin + cell*float64(n) + 10)
	return newFigure(title, w, h, func(dc draw.Canvas) error {
		txt := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 7), XAlign: draw.XCenter, YAlign: draw.YCenter,
			Handler: plot.DefaultTextHandler}
		ttl := txt
		ttl.Font = font.From(plot.DefaultFont, 11)
		dc.FillText(ttl, vg.Point{X: w / 2, Y: h - titleH/2}, title)
		top := h - titleH - margin
		left := (w - vg.Length(cell*float64(n)) - margin) / 2 // centre the matrix under the title
		for i := 0; i < n; i++ {
			// Row label on the left, column label on top (rotated).
			rl := txt
			rl.XAlign = draw.XRight
			dc.FillText(rl, vg.Point{X: left + margin - 4, Y: top - vg.Length(cell*(float64(i)+0.5))}, labels[i])
			cl := txt
			cl.XAlign, cl.Rotation = draw.XLeft, math.Pi/2
			dc.FillText(cl, vg.Point{X: left + margin + vg.Length(cell*(float64(i)+0.5)), Y: top + 4}, labels[i])
			for j := 0; j < n; j++ {
				v := values[i][j]
				x0 := left + margin + vg.Length(cell*float64(j))
				y0 := top - vg.Length(cell*float64(i+1))
				rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x0 + cell, Y: y0 + cell}}
				dc.SetColor(Diverging(v))
				dc.Fill(rect.Path())
				label := "–"
				if !math.IsNaN(v) {
					label = fmt.Sprintf("%.2f", v)
				}
				ct := txt
				if math.Abs(v) > 0.6 {
					ct.Color = color.White
				}
				dc.FillText(ct, vg.Point{X: x0 + cell/2, Y: y0 + cell/2}, label)
			}
		}
		return nil
	}), nil
}

// Diverging maps [−1, 1] to blue–white–red.
func Diverging(v float64) color.Color {
	if math.IsNaN(v) {
		return color.RGBA{200, 200, 200, 255}
	}
	v = math.Max(-1, math.Min(1, v))
	lerp := func(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }
	if v >= 0 {
		return color.RGBA{lerp(255, 178, v), lerp(255, 24, v), lerp(255, 43, v), 255}
	}
	return color.RGBA{lerp(255, 33, -v), lerp(255, 102, -v), lerp(255, 172, -v), 255}
}
