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

// Statistics of a pair that Heatmap draws.
const (
	StatKendallTauB = "kendall_tau_b"
	StatSpearman    = "spearman"
	StatWeightedTau = "weighted_tau"
	StatJaccard     = "jaccard" // of the top-k sets at the k closest to 1,000 (ReferenceK)
)

// Heatmap draws one statistic (StatKendallTauB, StatSpearman, StatWeightedTau or StatJaccard) between
// every pair of bases as an annotated matrix, bases in the result's order.
func Heatmap(r *Result, stat string) (*plot.Figure, error) {
	k := r.ReferenceK()
	var title string
	var get func(p *PairStats) float64
	switch stat {
	case StatKendallTauB:
		title, get = fmt.Sprintf("Kendall tau-b of leverage rankings (null: 0 ± %.4f)", r.NullSD), func(p *PairStats) float64 { return p.KendallTauB }
	case StatSpearman:
		title, get = "Spearman rho of leverage rankings", func(p *PairStats) float64 { return p.Spearman }
	case StatWeightedTau:
		title, get = "Weighted tau (top ranks weigh most)", func(p *PairStats) float64 { return p.WeightedTau }
	case StatJaccard:
		title = fmt.Sprintf("Jaccard of the top-%d sets (expected for random sets: %.4f)", k, rankstat.ExpectedJaccard(r.Rows, k))
		get = func(p *PairStats) float64 {
			if o, ok := p.overlapAt(k); ok {
				return o.Jaccard
			}
			return math.NaN()
		}
	default:
		return nil, fmt.Errorf("heatmap: unknown statistic %q (want %s, %s, %s or %s)", stat, StatKendallTauB, StatSpearman, StatWeightedTau, StatJaccard)
	}
	return plot.Heatmap(title, r.Bases, r.matrix(get))
}

// matrix returns the symmetric matrix of get over the pairs, with 1 on the diagonal.
func (r *Result) matrix(get func(p *PairStats) float64) [][]float64 {
	index := map[string]int{}
	for i, b := range r.Bases {
		index[b] = i
	}
	m := make([][]float64, len(r.Bases))
	for i := range m {
		m[i] = make([]float64, len(r.Bases))
		m[i][i] = 1
	}
	for _, p := range r.Pairs {
		v := get(p)
		m[index[p.A]][index[p.B]], m[index[p.B]][index[p.A]] = v, v
	}
	return m
}

// overlapAt returns the pair's overlap at k.
func (p *PairStats) overlapAt(k int) (rankstat.Overlap, bool) {
	for _, o := range p.Overlap {
		if o.K == k {
			return o, true
		}
	}
	return rankstat.Overlap{}, false
}

// ReferenceK is the k of the overlap grid closest to 1,000 (in log scale): the one the Jaccard heatmap,
// the galleries and the findings use.
func (r *Result) ReferenceK() int {
	ref := 0
	for _, k := range r.OverlapK {
		if ref == 0 || math.Abs(math.Log(float64(k)/1000)) < math.Abs(math.Log(float64(ref)/1000)) {
			ref = k
		}
	}
	return ref
}

// Families returns the bases' groups in the order they first appear.
func (r *Result) Families() []string {
	var out []string
	for _, b := range r.Bases {
		if g := r.Groups[b]; !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// OverlapFigure draws, for each family with a pair, the mean overlap |A∩B|/k of the top-k sets of its
// members against k (log scale), with the range over pairs as a band, beside k/N, the overlap of
// random sets.
func OverlapFigure(r *Result) (*plot.Figure, error) {
	ks := make([]float64, len(r.OverlapK))
	for i, k := range r.OverlapK {
		ks[i] = float64(k)
	}
	var curves []plot.Curve
	for _, g := range r.Families() {
		c := plot.Curve{X: ks, Y: make([]float64, len(ks)), Lo: make([]float64, len(ks)), Hi: make([]float64, len(ks)), Color: plot.FamilyColor(g)}
		for i := range c.Lo {
			c.Lo[i], c.Hi[i] = math.Inf(1), math.Inf(-1)
		}
		count := 0
		for _, p := range r.Pairs {
			if r.Groups[p.A] != g || r.Groups[p.B] != g {
				continue
			}
			count++
			for i, k := range r.OverlapK {
				o, _ := p.overlapAt(k)
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
		curves = append(curves, c)
	}
	rnd := plot.Curve{Label: "random sets (k/N)", X: ks, Y: make([]float64, len(ks)), Dashed: true, Color: color.Black}
	for i, k := range ks {
		rnd.Y[i] = k / float64(r.Rows)
	}
	curves = append(curves, rnd)
	return plot.LinePlot("Overlap of top-k leverage sets within each family, |A∩B|/k (band: range over pairs)",
		plot.PlotOptions{XLabel: "k", YLabel: "|A∩B| / k", LogX: true, YMin: 0, YMax: 1}, curves)
}

// ConsensusGallery draws the rows that every member of c.Group put in its top-c.K (at most max of
// them, those of highest mean leverage over the members), sorted by label. ds are the images the
// scores are of.
func ConsensusGallery(r *Result, ds *mnist.Dataset, c Consensus, max int) (*plot.Figure, error) {
	if len(c.Chosen) == 0 {
		return nil, fmt.Errorf("consensus gallery of %s at k = %d: no row is in every member's top-k", c.Group, c.K)
	}
	mean := r.meanScores(c.Group)
	idx := c.Chosen
	if len(idx) > max {
		at := make([]float64, len(idx))
		for i, j := range idx {
			at[i] = mean[j]
		}
		top := rankstat.TopK(at, max)
		idx = make([]int, len(top))
		for i, t := range top {
			idx[i] = c.Chosen[t]
		}
	}
	cols := min(20, len(idx))
	title := fmt.Sprintf("In the top-%d of all %d %s bases: %d rows (chance: %.1f)", c.K, c.Members, c.Group, len(c.Chosen), c.ExpectedChosen)
	if len(idx) < len(c.Chosen) {
		title += fmt.Sprintf("; the %d of highest mean leverage", len(idx))
	}
	return plot.DigitGrid(ds, mean, idx, plot.GridOptions{Rows: (len(idx) + cols - 1) / cols, Cols: cols, Title: title})
}

// meanScores returns the mean leverage over the members of a group.
func (r *Result) meanScores(group string) []float64 {
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

// WriteFigures saves every figure of Question 2 in dir, as PNG and SVG: the four heatmaps, the overlap
// curves and, at ReferenceK, a gallery of each family's consensus rows (at most gallery digits; 0
// means 100). It returns the files written.
func WriteFigures(dir string, r *Result, ds *mnist.Dataset, gallery int) ([]string, error) {
	if gallery <= 0 {
		gallery = 100
	}
	type named struct {
		stem string
		fig  func() (*plot.Figure, error)
	}
	k := r.ReferenceK()
	var figs []named
	for _, stat := range []string{StatKendallTauB, StatSpearman, StatWeightedTau, StatJaccard} {
		stem := "q2_" + stat
		if stat == StatJaccard {
			stem = fmt.Sprintf("q2_jaccard_top%d", k)
		}
		figs = append(figs, named{stem, func() (*plot.Figure, error) { return Heatmap(r, stat) }})
	}
	figs = append(figs, named{"q2_overlap_vs_k", func() (*plot.Figure, error) { return OverlapFigure(r) }})
	for _, c := range r.Consensus {
		if c.K == k && len(c.Chosen) > 0 {
			figs = append(figs, named{fmt.Sprintf("q2_consensus_%s_top%d", c.Group, k), func() (*plot.Figure, error) { return ConsensusGallery(r, ds, c, gallery) }})
		}
	}
	var files []string
	for _, f := range figs {
		fig, err := f.fig()
		if err != nil {
			return files, err
		}
		paths, err := fig.SaveAll(filepath.Join(dir, f.stem), ".png", ".svg")
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}
