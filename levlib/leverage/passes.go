package leverage

import (
	"context"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"gonum.org/v1/gonum/mat"
)

// projection describes a projection pass: Q = X·M for a w×k matrix M, then per row
// ℓ_i = Σ_{j<Lead} Q_ij²·Weights_j, and optionally H = Q[:, Lead:]ᵀ Q[:, Lead:], the Gram matrix of
// the trailing columns.
type projection struct {
	M *mat.Dense
	// Lead is how many leading columns of Q are summed into the scores.
	Lead int
	// Weights, if not nil, weigh the squares of the leading columns (ridge leverage).
	Weights []float64
	// Triangular says M = [[T11, T12], [0, I]] with T11 (Lead×Lead) upper triangular, as the two-pass
	// path's factor is: column block J of Q then needs only the column blocks of X up to J (with four
	// blocks 10/16 of the products; measured 27% faster than one product at 784 columns, and six blocks
	// no faster than four), and the trailing columns are X's own plus X_lead·T12.
	Triangular bool
	// TailGram asks for H.
	TailGram bool
}

// projectPass runs a projection pass and returns the scores and, if asked for, H.
func projectPass(ctx context.Context, b compute.Backend, ch *gomlxutil.Chunker, p projection, tick func()) ([]float64, *mat.SymDense, error) {
	w, k := p.M.Dims()
	lead, tail := p.Lead, k-p.Lead
	nb := 1
	if p.Triangular && lead >= 256 {
		nb = 4
	}
	// Column blocks of X: the lead blocks, then (triangular) the trailing columns as their own block.
	bounds := gomlxutil.BlockBounds(lead, nb)
	if p.Triangular && tail > 0 {
		bounds = append(bounds, w)
	} else {
		bounds[len(bounds)-1] = w
	}
	ch.Blocks, ch.Transposed = bounds, false
	nx := len(bounds) - 1
	leadBounds := gomlxutil.BlockBounds(lead, nb) // output column blocks of Q
	exec, err := gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		xs, m, wts := in[:nx], in[nx], in[nx+1]
		block := func(i int, c0, c1 int) *graph.Node { // X_i · M[rows of block i, c0:c1]
			return graph.DotGeneral(xs[i], []int{1}, nil,
				graph.Slice(m, graph.AxisRange(bounds[i], bounds[i+1]), graph.AxisRange(c0, c1)), []int{0}, nil)
		}
		sumBlocks := func(last, c0, c1 int) *graph.Node {
			var q *graph.Node
			for i := 0; i <= last; i++ {
				if q == nil {
					q = block(i, c0, c1)
				} else {
					q = graph.Add(q, block(i, c0, c1))
				}
			}
			return q
		}
		var scores *graph.Node
		for j := 0; j < nb; j++ {
			c0, c1 := leadBounds[j], leadBounds[j+1]
			if c0 == c1 {
				continue
			}
			last := nx - 1
			if p.Triangular {
				last = j
			}
			q := sumBlocks(last, c0, c1)
			sq := graph.Mul(q, q)
			if p.Weights != nil {
				sq = graph.Mul(sq, graph.Reshape(graph.Slice(wts, graph.AxisRange(c0, c1)), 1, c1-c0))
			}
			s := graph.ReduceSum(sq, 1)
			if scores == nil {
				scores = s
			} else {
				scores = graph.Add(scores, s)
			}
		}
		if scores == nil {
			scores = graph.ReduceSum(graph.ZerosLike(xs[0]), 1)
		}
		out := []*graph.Node{scores}
		if p.TailGram && tail > 0 {
			var qt *graph.Node
			if p.Triangular {
				qt = graph.Add(sumBlocks(nx-2, lead, k), xs[nx-1]) // X_lead·T12 + X_tail
			} else {
				qt = sumBlocks(nx-1, lead, k)
			}
			out = append(out, graph.DotGeneral(qt, []int{0}, nil, qt, []int{0}, nil))
		}
		return out
	})
	if err != nil {
		return nil, nil, err
	}
	defer exec.Finalize()
	mt := tensors.FromFlatDataAndDimensions(gomlxutil.DenseData(p.M), w, k)
	defer mt.FinalizeAll()
	wv := p.Weights
	if wv == nil {
		wv = []float64{0}
	}
	wt := tensors.FromFlatDataAndDimensions(wv, len(wv))
	defer wt.FinalizeAll()
	scores := make([]float64, ch.N())
	var h *mat.SymDense
	if p.TailGram && tail > 0 {
		h = mat.NewSymDense(tail, nil)
	}
	err = ch.Run(ctx, exec, []any{mt, wt}, tick, func(lo, hi int, out []*tensors.Tensor) error {
		err := tensors.ConstFlatData(out[0], func(flat []float64) { copy(scores[lo:hi], flat[:hi-lo]) })
		if err != nil || h == nil {
			return err
		}
		return tensors.ConstFlatData(out[1], func(flat []float64) {
			raw := h.RawSymmetric()
			for a := 0; a < tail; a++ {
				for c := a; c < tail; c++ {
					raw.Data[a*raw.Stride+c] += flat[a*tail+c]
				}
			}
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return scores, h, nil
}

// nonzeroColumns returns the columns of an in-memory source that hold a nonzero value, or nil (meaning
// all) when every column does or the source is not in memory. The Gram pass then skips the all-zero
// columns, which change neither the column space nor the scores: MNIST RAW has 65 of them, 16% of
// the pass's products. The scan stops as soon as every column has shown a nonzero (NaN counts as
// nonzero, so the pass still finds and reports it).
func nonzeroColumns(src matrixio.RowSource) []int {
	v, ok := src.(gomlxutil.RowViewer)
	if !ok {
		return nil
	}
	n, d := src.Dims()
	cand := xslices.Iota(d) // columns not yet seen nonzero
	for i := 0; i < n && len(cand) > 0; i++ {
		row := v.RowsView(i, i+1)
		kept := cand[:0]
		for _, j := range cand {
			if row[j] == 0 {
				kept = append(kept, j)
			}
		}
		cand = kept
	}
	if len(cand) == 0 {
		return nil
	}
	keep := make([]int, 0, d-len(cand))
	for j, z := 0, 0; j < d; j++ {
		if z < len(cand) && cand[z] == j {
			z++
			continue
		}
		keep = append(keep, j)
	}
	return keep
}

// expandGram returns the d×d Gram matrix whose rows and columns keep are g and whose others are zero.
func expandGram(g *mat.SymDense, keep []int, d int) *mat.SymDense {
	out := mat.NewSymDense(d, nil)
	for a, ia := range keep {
		for b := a; b < len(keep); b++ {
			out.SetSym(ia, keep[b], g.At(a, b))
		}
	}
	return out
}
