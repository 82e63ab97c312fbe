package levlib

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"

	"github.com/levstudy/levstudy/levlib/rankstat"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Heatmap draws an annotated matrix (values in [−1, 1], blue–white–red) with row and column labels.
// NaN cells are grey. The format follows path's extension.
func Heatmap(path, title string, labels []string, values [][]float64) error {
	n := len(labels)
	const cell, margin, titleH = 34.0, 70.0, 24.0
	w := vg.Length(math.Max(margin+cell*float64(n)+10, 420))
	h := vg.Length(titleH + margin + cell*float64(n) + 10)
	c, dc, err := whiteCanvas(path, w, h)
	if err != nil {
		return err
	}
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
			dc.SetColor(diverging(v))
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
	return writeCanvas(path, c)
}

// diverging maps [−1, 1] to blue–white–red.
func diverging(v float64) color.Color {
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

// q2Figures draws the heatmaps, the overlap curves and the consensus galleries.
func q2Figures(r *Q2Result, ds *Dataset, opts Q2Options) ([]string, error) {
	opts = opts.withDefaults()
	var files []string
	n := len(r.Bases)
	index := map[string]int{}
	for i, b := range r.Bases {
		index[b] = i
	}
	matrix := func(get func(p *PairStats) float64) [][]float64 {
		m := make([][]float64, n)
		for i := range m {
			m[i] = make([]float64, n)
			m[i][i] = 1
		}
		for _, p := range r.Pairs {
			v := get(p)
			m[index[p.A]][index[p.B]], m[index[p.B]][index[p.A]] = v, v
		}
		return m
	}
	kMid := opts.K[0]
	for _, k := range opts.K {
		if math.Abs(math.Log(float64(k)/1000)) < math.Abs(math.Log(float64(kMid)/1000)) && k <= ds.N() {
			kMid = k
		}
	}
	heat := []struct {
		name, title string
		get         func(p *PairStats) float64
	}{
		{"q2_kendall_tau_b", fmt.Sprintf("Kendall tau-b of leverage rankings (null: 0 ± %.4f)", r.NullSD), func(p *PairStats) float64 { return p.KendallTauB }},
		{"q2_spearman", "Spearman rho of leverage rankings", func(p *PairStats) float64 { return p.Spearman }},
		{"q2_weighted_tau", "Weighted tau (top ranks weigh most)", func(p *PairStats) float64 { return p.WeightedTau }},
		{fmt.Sprintf("q2_jaccard_top%d", kMid), fmt.Sprintf("Jaccard of the top-%d sets (expected for random sets: %.4f)", kMid, rankstat.ExpectedJaccard(ds.N(), kMid)),
			func(p *PairStats) float64 {
				for _, o := range p.Overlap {
					if o.K == kMid {
						return o.Jaccard
					}
				}
				return math.NaN()
			}},
	}
	for _, ext := range []string{".png", ".svg"} {
		for _, h := range heat {
			path := filepath.Join(opts.FigureDir, h.name+ext)
			if err := Heatmap(path, h.title, r.Bases, matrix(h.get)); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
		// Overlap vs k: mean |A∩B|/k over the pairs within each group, with min–max band.
		var curves []Curve
		groups := []string{}
		for _, b := range r.Bases {
			if g := r.Groups[b]; !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		var ks []float64
		for _, k := range opts.K {
			if k <= ds.N() {
				ks = append(ks, float64(k))
			}
		}
		for _, g := range groups {
			c := Curve{Label: "within " + g, X: ks, Y: make([]float64, len(ks)), Lo: make([]float64, len(ks)), Hi: make([]float64, len(ks))}
			count := 0
			for i := range c.Lo {
				c.Lo[i], c.Hi[i] = math.Inf(1), math.Inf(-1)
			}
			for _, p := range r.Pairs {
				if r.Groups[p.A] != g || r.Groups[p.B] != g {
					continue
				}
				count++
				for i, o := range p.Overlap[:len(ks)] {
					c.Y[i] += o.Fraction
					c.Lo[i], c.Hi[i] = math.Min(c.Lo[i], o.Fraction), math.Max(c.Hi[i], o.Fraction)
				}
			}
			if count == 0 {
				continue
			}
			for i := range c.Y {
				c.Y[i] /= float64(count)
			}
			if count == 1 {
				c.Lo, c.Hi = nil, nil
			}
			c.Label = fmt.Sprintf("within %s (%d pairs)", g, count)
			c.Color = FamilyColor(g)
			curves = append(curves, c)
		}
		rnd := Curve{Label: "random sets (k/N)", X: ks, Y: make([]float64, len(ks)), Dashed: true, Color: color.Black}
		for i, k := range ks {
			rnd.Y[i] = k / float64(ds.N())
		}
		curves = append(curves, rnd)
		path := filepath.Join(opts.FigureDir, "q2_overlap_vs_k"+ext)
		if err := LinePlot(path, "Overlap of top-k leverage sets within each family, |A∩B|/k (band: range over pairs)",
			PlotOptions{XLabel: "k", YLabel: "|A∩B| / k", LogX: true, YMin: 0, YMax: 1}, curves); err != nil {
			return nil, err
		}
		files = append(files, path)
		// Galleries of the consistently chosen rows at kMid.
		for _, c := range r.Consensus {
			if c.K != kMid || len(c.Chosen) == 0 {
				continue
			}
			idx := c.Chosen
			if len(idx) > opts.Gallery {
				idx = rankstat.TopK(sumScores(r, c.Group, idx), opts.Gallery)
				for i := range idx {
					idx[i] = c.Chosen[idx[i]]
				}
			}
			cols := min(20, len(idx))
			rows := (len(idx) + cols - 1) / cols
			path := filepath.Join(opts.FigureDir, fmt.Sprintf("q2_consensus_%s_top%d%s", c.Group, kMid, ext))
			title := fmt.Sprintf("In the top-%d of all %d %s bases: %d rows (chance: %.1f)", kMid, c.Members, c.Group, len(c.Chosen), c.ExpectedChosen)
			if len(idx) < len(c.Chosen) {
				title += fmt.Sprintf("; the %d of highest mean leverage", len(idx))
			}
			mean := meanScores(r, c.Group)
			if err := DigitGrid(path, ds, mean, idx, GridOptions{Rows: rows, Cols: cols, Title: title}); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// meanScores returns the mean leverage over the members of a group.
func meanScores(r *Q2Result, group string) []float64 {
	var out []float64
	m := 0
	for _, b := range r.Bases {
		if r.Groups[b] != group {
			continue
		}
		s := r.scores[b]
		if out == nil {
			out = make([]float64, len(s))
		}
		for i, v := range s {
			out[i] += v
		}
		m++
	}
	for i := range out {
		out[i] /= float64(m)
	}
	return out
}

// sumScores returns the group's mean leverage of rows idx.
func sumScores(r *Q2Result, group string, idx []int) []float64 {
	mean := meanScores(r, group)
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = mean[j]
	}
	return out
}
