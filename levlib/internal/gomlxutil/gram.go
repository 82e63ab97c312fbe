package gomlxutil

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

// GramBlocks is how many column blocks the Gram pass splits a chunk into, computing only the blocks on
// and above the diagonal (6 of 9 block products): measured (AVX-512, 2 cores, MNIST RAW, 8,000-row
// chunks) exact leverage took 1.53 s with three blocks and 1.56 s with two; one full product was 10%
// slower than two blocks.
func GramBlocks(w int) int {
	if w >= 512 {
		return 3
	}
	return 1
}

// GramPass returns G = XᵀX of the chunker's rows (its kept and scaled columns), accumulated over chunks
// on the host in float64. It sets the chunker's layout (transposed blocks).
func GramPass(ctx context.Context, b compute.Backend, ch *Chunker, tick func()) (*mat.SymDense, error) {
	w := ch.Width()
	nb := GramBlocks(w)
	bounds := BlockBounds(w, nb)
	ch.Blocks, ch.Transposed = bounds, true
	exec, err := NewExec(b, func(a []*graph.Node) []*graph.Node {
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
	err = ch.Run(ctx, exec, nil, tick, func(lo, hi int, out []*tensors.Tensor) error {
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

// GramPassTimes returns G = (XW)ᵀ(XW) for a w×k matrix W, computing (XW)ᵀ = WᵀXᵀ from transposed
// chunks so that both products take the kernels' layouts.
func GramPassTimes(ctx context.Context, b compute.Backend, ch *Chunker, wm *mat.Dense, tick func()) (*mat.SymDense, error) {
	ch.Blocks, ch.Transposed = nil, true
	rows, k := wm.Dims()
	wt := mat.DenseCopyOf(wm.T())
	wtt := tensors.FromFlatDataAndDimensions(DenseData(wt), k, rows)
	defer wtt.FinalizeAll()
	exec, err := NewExec(b, func(a, wT *graph.Node) *graph.Node {
		yt := graph.DotGeneral(wT, []int{1}, nil, a, []int{0}, nil) // [k, c]
		return graph.DotGeneral(yt, []int{1}, nil, yt, []int{1}, nil)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	g := mat.NewSymDense(k, nil)
	raw := g.RawSymmetric()
	err = ch.Run(ctx, exec, []any{wtt}, tick, func(lo, hi int, out []*tensors.Tensor) error {
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

// BlockBounds splits [0, w) into nb nearly equal blocks: bounds[i] ≤ j < bounds[i+1].
func BlockBounds(w, nb int) []int {
	bounds := make([]int, nb+1)
	for i := range bounds {
		bounds[i] = i * w / nb
	}
	return bounds
}

// DenseData returns the row-major data of m without stride gaps.
func DenseData(m *mat.Dense) []float64 {
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
