package q2

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// inkBins splits the rows into nb bins of (nearly) equal size by increasing ink (ties by index).
func inkBins(ink []float64, nb int) [][]int {
	idx := xslices.Iota(len(ink))
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(ink[a], ink[b]) })
	bins := make([][]int, nb)
	for k := range bins {
		bins[k] = idx[k*len(idx)/nb : (k+1)*len(idx)/nb]
	}
	return bins
}

// binnedTau is the mean Kendall tau-b of x and y within the bins (bins of equal size weigh equally).
func binnedTau(x, y []float64, bins [][]int) (float64, error) {
	sum, n := 0.0, 0
	for _, b := range bins {
		if len(b) < 2 {
			continue
		}
		xs, ys := make([]float64, len(b)), make([]float64, len(b))
		for i, r := range b {
			xs[i], ys[i] = x[r], y[r]
		}
		k, err := rankstat.KendallTauB(xs, ys)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(k.TauB) {
			continue // a basis constant within the bin ranks nothing there
		}
		sum += k.TauB
		n++
	}
	return sum / float64(max(n, 1)), nil
}

// ridgeControls computes, for each basis and relative λ, ridge leverage and its agreement with the
// exact scores.
func ridgeControls(ctx context.Context, ws *workspace.Workspace, bases []basis.Spec, res *Result, opts Options) error {
	n := ws.Data.N()
	k := opts.RidgeK
	if k == 0 {
		k = 1000
	}
	k = min(k, n/2)
	for _, spec := range bases {
		label, _ := basis.Label(spec)
		lev, err := ws.Leverage(ctx, spec, leverage.Options{})
		if err != nil {
			return err
		}
		exact := res.scores[label]
		for _, c := range opts.RidgeRel {
			lambda := c * lev.GramTrace / float64(lev.Cols)
			lev, err := ws.Leverage(ctx, spec, leverage.Options{Ridge: lambda})
			if err != nil {
				return fmt.Errorf("ridge control of %s: %w", label, err)
			}
			ridge, _, err := rankstat.TieWithin(lev.Scores, rankstat.DefaultTieTolerance)
			if err != nil {
				return fmt.Errorf("ridge control of %s: %w", label, err)
			}
			tau, err := rankstat.KendallTauB(ridge, exact)
			if err != nil {
				return err
			}
			ov, err := rankstat.TopKOverlap(ridge, exact, []int{k})
			if err != nil {
				return err
			}
			res.Ridge = append(res.Ridge, RidgeControl{Basis: label, LambdaRel: c, Lambda: lambda, EffectiveRank: xslices.Sum(lev.Scores),
				KendallTauB: tau.TauB, K: k, TopKShared: ov[0].Fraction, NearOne: lev.NearOne})
		}
	}
	return nil
}
