package q1

import (
	"fmt"
	"image/color"
	"path/filepath"

	"github.com/levstudy/levstudy/levlib/plot"
)

// strategyColor is the colour of a selection strategy in every figure.
func strategyColor(s Strategy) color.Color {
	switch s {
	case StrategyTop:
		return color.RGBA{31, 119, 180, 255} // blue
	case StrategyBottom:
		return color.RGBA{255, 127, 14, 255} // orange
	case StrategyRandom:
		return color.RGBA{90, 90, 90, 255} // grey
	case StrategySampled:
		return color.RGBA{44, 160, 44, 255} // green
	case StrategyBalanced:
		return color.RGBA{148, 103, 189, 255} // purple
	}
	return color.Black
}

// AccuracyFigure draws one classifier's accuracy (metric "test" or "train") against k (log x), with a
// panel per basis family: each strategy's family summary (ByFamily) as a line with its 95% interval
// as a band, the random baseline dashed. A strategy has the same colour in every figure. It is an error if r has no fits of cl.
func AccuracyFigure(r *Result, cl Classifier, metric string) (*plot.Figure, error) {
	if metric != "test" && metric != "train" {
		return nil, fmt.Errorf("accuracy figure: metric %q, want test or train", metric)
	}
	fam := r.ByFamily()
	_, families, _ := axes(fam)
	var panels []plot.Panel
	for _, f := range families {
		pn := plot.Panel{Title: f}
		if n := q1Inits(fam, f, cl); n > 1 {
			pn.Title = fmt.Sprintf("%s (%d inits)", f, n)
		}
		for _, st := range strategies {
			family := f
			if st == StrategyRandom {
				family = randomFamily(fam, f, cl)
			}
			if c, ok := q1Curve(fam, family, st, cl, metric); ok {
				pn.Curves = append(pn.Curves, c)
			}
		}
		if len(pn.Curves) > 0 {
			panels = append(panels, pn)
		}
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("accuracy figure: no %s fits in the result", cl)
	}
	title := fmt.Sprintf("Question 1, %s classifier: %s accuracy after training on k selected rows", cl, metric)
	return plot.PanelPlot(title, plot.PlotOptions{XLabel: "k (selected training rows)", YLabel: metric + " accuracy", LogX: true}, panels)
}

// WriteFigures saves AccuracyFigure of every classifier of r, test and train, as PNG and SVG in dir
// (q1_CLASSIFIER_METRIC.png), and returns the files written.
func WriteFigures(dir string, r *Result) ([]string, error) {
	cls, _, _ := axes(r.ByFamily())
	var files []string
	for _, cl := range cls {
		for _, metric := range []string{"test", "train"} {
			fig, err := AccuracyFigure(r, cl, metric)
			if err != nil {
				return files, err
			}
			paths, err := fig.SaveAll(filepath.Join(dir, fmt.Sprintf("q1_%s_%s", cl, metric)), ".png", ".svg")
			files = append(files, paths...)
			if err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

// q1Inits returns the number of inits of a family's summaries.
func q1Inits(fam []Summary, family string, cl Classifier) int {
	n := 0
	for _, s := range fam {
		if s.Family == family && s.Classifier == cl {
			n = max(n, s.Inits)
		}
	}
	return n
}

// q1Curve is one strategy's accuracy against k for a family.
func q1Curve(fam []Summary, family string, st Strategy, cl Classifier, metric string) (plot.Curve, bool) {
	c := plot.Curve{Label: string(st), Color: strategyColor(st), Dashed: st == StrategyRandom}
	if st == StrategyRandom {
		c.Label = "random"
	}
	var band bool
	for _, s := range fam {
		if s.Family != family || s.Strategy != st || s.Classifier != cl {
			continue
		}
		v := s.Test
		if metric == "train" {
			v = s.Train
		}
		c.X, c.Y = append(c.X, float64(s.K)), append(c.Y, v.Mean)
		// An accuracy lies in [0, 1]: a wide interval (few inits) is clipped there.
		c.Lo, c.Hi = append(c.Lo, max(0, v.Lo)), append(c.Hi, min(1, v.Hi))
		band = band || v.HasCI
	}
	if !band {
		c.Lo, c.Hi = nil, nil
	}
	return c, len(c.X) > 0
}
