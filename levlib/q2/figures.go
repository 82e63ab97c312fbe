package q2

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"

	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/plot"
	"github.com/levstudy/levstudy/levlib/rankstat"
)

// Figures draws the heatmaps, the overlap curves and the consensus galleries.
func Figures(r *Result, ds *mnist.Dataset, opts Options) ([]string, error) {
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
			if err := plot.Heatmap(path, h.title, r.Bases, matrix(h.get)); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
		// Overlap vs k: mean |A∩B|/k over the pairs within each group, with min–max band.
		var curves []plot.Curve
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
			c := plot.Curve{Label: "within " + g, X: ks, Y: make([]float64, len(ks)), Lo: make([]float64, len(ks)), Hi: make([]float64, len(ks))}
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
			c.Color = plot.FamilyColor(g)
			curves = append(curves, c)
		}
		rnd := plot.Curve{Label: "random sets (k/N)", X: ks, Y: make([]float64, len(ks)), Dashed: true, Color: color.Black}
		for i, k := range ks {
			rnd.Y[i] = k / float64(ds.N())
		}
		curves = append(curves, rnd)
		path := filepath.Join(opts.FigureDir, "q2_overlap_vs_k"+ext)
		if err := plot.LinePlot(path, "Overlap of top-k leverage sets within each family, |A∩B|/k (band: range over pairs)",
			plot.PlotOptions{XLabel: "k", YLabel: "|A∩B| / k", LogX: true, YMin: 0, YMax: 1}, curves); err != nil {
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
			if err := plot.DigitGrid(path, ds, mean, idx, plot.GridOptions{Rows: rows, Cols: cols, Title: title}); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// meanScores returns the mean leverage over the members of a group.
func meanScores(r *Result, group string) []float64 {
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
func sumScores(r *Result, group string, idx []int) []float64 {
	mean := meanScores(r, group)
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = mean[j]
	}
	return out
}
