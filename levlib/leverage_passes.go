package levlib

import (
	"context"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/mat"
)

// The passes of the leverage engine over the rows of X: each is one GoMLX graph applied to row chunks
// (float64), with only D×D results coming back to the host. The chunks come in the layouts the
// backend's matrix kernels take directly (the contracting axis last on the left, first or last on the
// right), so no pass transposes a chunk on the backend.

// gramBlocks is how many column blocks the Gram pass splits a chunk into, computing only the blocks on
// and above the diagonal (6 of 9 block products): measured (AVX-512, 2 cores, MNIST RAW, 8,000-row
// chunks) exact leverage took 1.53 s with three blocks and 1.56 s with two; one full product was 10%
// slower than two blocks.
func gramBlocks(w int) int {
	if w >= 512 {
		return 3
	}
	return 1
}

// gramPass returns G = XᵀX of the chunker's rows (its kept and scaled columns), accumulated over chunks
// on the host in float64. It sets the chunker's layout (transposed blocks).
func gramPass(ctx context.Context, b compute.Backend, ch *chunker, tick func()) (*mat.SymDense, error) {
	w := ch.Width()
	nb := gramBlocks(w)
	bounds := blockBounds(w, nb)
	ch.Blocks, ch.Transposed = bounds, true
	exec, err := newExec(b, func(a []*graph.Node) []*graph.Node {
		var out []*graph.Node
		for k := 0; k < nb; k++ {
			for l := k; l < nb; l++ {
				out = append(out, graph.DotGeneral(a[k], []int{1}, nil, a[l], []int{1}, nil))
			}
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	g := mat.NewSymDense(w, nil)
	raw := g.RawSymmetric()
	err = ch.run(ctx, exec, nil, tick, func(lo, hi int, out []*tensors.Tensor) error {
		i := 0
		for k := 0; k < nb; k++ {
			for l := k; l < nb; l++ {
				r0, c0, cw := bounds[k], bounds[l], bounds[l+1]-bounds[l]
				err := tensors.ConstFlatData(out[i], func(flat []float64) {
					for a := 0; a < bounds[k+1]-r0; a++ {
						row := raw.Data[(r0+a)*raw.Stride+c0 : (r0+a)*raw.Stride+c0+cw]
						src := flat[a*cw : (a+1)*cw]
						start := 0
						if k == l {
							start = a // upper triangle only
						}
						for c := start; c < cw; c++ {
							row[c] += src[c]
						}
					}
				})
				if err != nil {
					return err
				}
				i++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// gramPassTimes returns G = (XW)ᵀ(XW) for a w×k matrix W, computing (XW)ᵀ = WᵀXᵀ from transposed
// chunks so that both products take the kernels' layouts.
func gramPassTimes(ctx context.Context, b compute.Backend, ch *chunker, wm *mat.Dense, tick func()) (*mat.SymDense, error) {
	ch.Blocks, ch.Transposed = nil, true
	rows, k := wm.Dims()
	wt := mat.DenseCopyOf(wm.T())
	wtt := tensors.FromFlatDataAndDimensions(denseData(wt), k, rows)
	defer wtt.FinalizeAll()
	exec, err := newExec(b, func(a, wT *graph.Node) *graph.Node {
		yt := graph.DotGeneral(wT, []int{1}, nil, a, []int{0}, nil) // [k, c]
		return graph.DotGeneral(yt, []int{1}, nil, yt, []int{1}, nil)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	g := mat.NewSymDense(k, nil)
	raw := g.RawSymmetric()
	err = ch.run(ctx, exec, []any{wtt}, tick, func(lo, hi int, out []*tensors.Tensor) error {
		return tensors.ConstFlatData(out[0], func(flat []float64) {
			for a := 0; a < k; a++ {
				row := raw.Data[a*raw.Stride : a*raw.Stride+k]
				for c := a; c < k; c++ {
					row[c] += flat[a*k+c]
				}
			}
		})
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// blockBounds splits [0, w) into nb nearly equal blocks: bounds[i] ≤ j < bounds[i+1].
func blockBounds(w, nb int) []int {
	bounds := make([]int, nb+1)
	for i := range bounds {
		bounds[i] = i * w / nb
	}
	return bounds
}

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
func projectPass(ctx context.Context, b compute.Backend, ch *chunker, p projection, tick func()) ([]float64, *mat.SymDense, error) {
	w, k := p.M.Dims()
	lead, tail := p.Lead, k-p.Lead
	nb := 1
	if p.Triangular && lead >= 256 {
		nb = 4
	}
	// Column blocks of X: the lead blocks, then (triangular) the trailing columns as their own block.
	bounds := blockBounds(lead, nb)
	if p.Triangular && tail > 0 {
		bounds = append(bounds, w)
	} else {
		bounds[len(bounds)-1] = w
	}
	ch.Blocks, ch.Transposed = bounds, false
	nx := len(bounds) - 1
	leadBounds := blockBounds(lead, nb) // output column blocks of Q
	exec, err := newExec(b, func(in []*graph.Node) []*graph.Node {
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
	mt := tensors.FromFlatDataAndDimensions(denseData(p.M), w, k)
	defer mt.FinalizeAll()
	wv := p.Weights
	if wv == nil {
		wv = []float64{0}
	}
	wt := tensors.FromFlatDataAndDimensions(wv, len(wv))
	defer wt.FinalizeAll()
	scores := make([]float64, ch.n)
	var h *mat.SymDense
	if p.TailGram && tail > 0 {
		h = mat.NewSymDense(tail, nil)
	}
	err = ch.run(ctx, exec, []any{mt, wt}, tick, func(lo, hi int, out []*tensors.Tensor) error {
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

// denseData returns the row-major data of m without stride gaps.
func denseData(m *mat.Dense) []float64 {
	r, c := m.Dims()
	raw := m.RawMatrix()
	if raw.Stride == c {
		return raw.Data[:r*c]
	}
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		out = append(out, raw.Data[i*raw.Stride:i*raw.Stride+c]...)
	}
	return out
}

// nonzeroColumns returns the columns of an in-memory source that hold a nonzero value, or nil (meaning
// all) when every column does or the source is not in memory. The Gram pass then skips the all-zero
// columns, which change neither the column space nor the scores: MNIST RAW has 65 of them, 16% of
// the pass's products. The scan stops as soon as every column has shown a nonzero (NaN counts as
// nonzero, so the pass still finds and reports it).
func nonzeroColumns(src RowSource) []int {
	v, ok := src.(rowViewer)
	if !ok {
		return nil
	}
	n, d := src.Dims()
	cand := seqInts(d) // columns not yet seen nonzero
	for i := 0; i < n && len(cand) > 0; i++ {
		row := v.rowsView(i, i+1)
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
