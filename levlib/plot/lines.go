package plot

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is a qualitative colour cycle for curves without an assigned colour.
var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}

// FamilyColor is the colour of a basis family (raw, relu, A, B, C, …) in every figure.
func FamilyColor(f string) color.Color {
	switch f {
	case "raw":
		return color.RGBA{90, 90, 90, 255}
	case "relu":
		return color.RGBA{188, 189, 34, 255}
	case "A", "orig-A":
		return color.RGBA{214, 39, 40, 255}
	case "B", "orig-B":
		return color.RGBA{31, 119, 180, 255}
	case "C", "orig-C":
		return color.RGBA{44, 160, 44, 255}
	}
	h := 0
	for _, c := range f {
		h = h*31 + int(c)
	}
	return palette[(h%len(palette)+len(palette))%len(palette)]
}

// Curve is one line of a LinePlot or PanelPlot.
type Curve struct {
	Label  string
	X, Y   []float64
	Dashed bool
	// Lo and Hi, if set, draw a shaded band.
	Lo, Hi []float64
	// Color, if not nil, is the line's colour (else the palette's next).
	Color color.Color
}

// Panel is one plot of a PanelPlot.
type Panel struct {
	Title  string
	Curves []Curve
}

// PlotOptions configures LinePlot and PanelPlot.
type PlotOptions struct {
	XLabel, YLabel string
	LogX           bool
	// YMin and YMax fix the y range when YMax > YMin (shared panels compare at a glance).
	YMin, YMax float64
	// Cols is the number of panels per row (0: up to 3).
	Cols int
}

// LinePlot draws curves in one panel, with the legend to the right of the data.
func LinePlot(title string, opts PlotOptions, curves []Curve) (*Figure, error) {
	return PanelPlot(title, opts, []Panel{{Curves: curves}})
}

// PanelPlot draws panels side by side (rows of opts.Cols) with one legend, to the right of all panels,
// listing each curve label once. A curve whose X, Y (and Lo, Hi, if set) differ in length is an error.
func PanelPlot(title string, opts PlotOptions, panels []Panel) (*Figure, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("figure %q: no panels", title)
	}
	for _, pn := range panels {
		for _, cv := range pn.Curves {
			if len(cv.Y) != len(cv.X) || (cv.Lo != nil && (len(cv.Lo) != len(cv.X) || len(cv.Hi) != len(cv.X))) {
				return nil, fmt.Errorf("figure %q: curve %q has %d x, %d y, %d lo and %d hi values", title, cv.Label, len(cv.X), len(cv.Y), len(cv.Lo), len(cv.Hi))
			}
		}
	}
	cols := opts.Cols
	if cols <= 0 {
		cols = min(3, len(panels))
	}
	rows := (len(panels) + cols - 1) / cols
	const panelW, panelH, legendW, titleH = 4.2, 3.3, 2.6, 0.45
	w := vg.Length(panelW*float64(cols)+legendW) * vg.Inch
	h := vg.Length(panelH*float64(rows)+titleH) * vg.Inch
	return newFigure(title, w, h, func(dc draw.Canvas) error {
		ttl := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, 13), XAlign: draw.XCenter, YAlign: draw.YCenter,
			Handler: plot.DefaultTextHandler}
		dc.FillText(ttl, vg.Point{X: w / 2, Y: h - titleH*vg.Inch/2}, title)
		legend := plot.NewLegend()
		legend.TextStyle.Font.Size = 10
		seen := map[string]bool{}
		next := 0
		colors := map[string]color.Color{}
		for i, pn := range panels {
			p := plot.New()
			p.Title.Text = pn.Title
			p.Title.TextStyle.Font.Size = 11
			p.X.Label.Text, p.Y.Label.Text = opts.XLabel, opts.YLabel
			if opts.LogX {
				p.X.Scale = plot.LogScale{}
				p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			}
			if opts.YMax > opts.YMin {
				p.Y.Min, p.Y.Max = opts.YMin, opts.YMax
			}
			p.Add(plotter.NewGrid())
			for _, cv := range pn.Curves {
				col := cv.Color
				if col == nil {
					if col = colors[cv.Label]; col == nil {
						col = palette[next%len(palette)]
						next++
					}
				}
				colors[cv.Label] = col
				line, points, err := curvePlotters(p, cv, col)
				if err != nil {
					return err
				}
				if !seen[cv.Label] {
					seen[cv.Label] = true
					legend.Add(cv.Label, line, points)
				}
			}
			r, k := i/cols, i%cols
			x0 := vg.Length(panelW*float64(k)) * vg.Inch
			y1 := h - titleH*vg.Inch - vg.Length(panelH*float64(r))*vg.Inch
			sub := draw.Crop(dc, x0, x0+panelW*vg.Inch-w, y1-panelH*vg.Inch, y1-h)
			p.Draw(sub)
		}
		lx := vg.Length(panelW*float64(cols)) * vg.Inch
		legend.Top, legend.Left = true, true
		legend.Draw(draw.Crop(dc, lx+0.1*vg.Inch, 0, 0, -titleH*vg.Inch-0.3*vg.Inch))
		return nil
	}), nil
}

// curvePlotters adds a curve (band, line, points) to p and returns the line and points for the legend.
func curvePlotters(p *plot.Plot, cv Curve, col color.Color) (*plotter.Line, *plotter.Scatter, error) {
	if cv.Lo != nil {
		poly := make(plotter.XYs, 0, 2*len(cv.X))
		for k := range cv.X {
			poly = append(poly, plotter.XY{X: cv.X[k], Y: cv.Lo[k]})
		}
		for k := len(cv.X) - 1; k >= 0; k-- {
			poly = append(poly, plotter.XY{X: cv.X[k], Y: cv.Hi[k]})
		}
		band, err := plotter.NewPolygon(poly)
		if err != nil {
			return nil, nil, err
		}
		r, g, b, _ := col.RGBA()
		band.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 50}
		band.LineStyle.Width = 0
		p.Add(band)
	}
	pts := make(plotter.XYs, 0, len(cv.X))
	for k := range cv.X {
		if !math.IsNaN(cv.Y[k]) { // a missing value is left out, not drawn as 0
			pts = append(pts, plotter.XY{X: cv.X[k], Y: cv.Y[k]})
		}
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, nil, err
	}
	line.Color, points.Color = col, col
	line.Width = vg.Points(1.6)
	points.Shape = draw.CircleGlyph{}
	points.Radius = vg.Points(2.5)
	if cv.Dashed {
		line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(line, points)
	return line, points, nil
}

// FileStem turns a basis label into a file-name stem: relu:F=100,seed=2 → relu_F100_seed2 (":", ",",
// "/" become "_", "=" is dropped).
func FileStem(s string) string {
	return strings.NewReplacer(":", "_", ",", "_", "=", "", "/", "_").Replace(s)
}
