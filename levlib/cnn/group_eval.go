package cnn

import (
	"context"
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// EvalOptions configures PredictGroup. The zero value runs batches of 128 images through up to
// DefaultEvalModels networks at a time, without progress reports.
type EvalOptions struct {
	// BatchSize is the images per pass (0 means 128, as Forward).
	BatchSize int
	// MaxModels is the most networks evaluated in one pass (0 means DefaultEvalModels): a pass holds
	// about 50 MB per network at batch 128.
	MaxModels int
	// Progress, if not nil, is called after each pass.
	Progress func(progress.Report) `json:"-"`
}

// DefaultEvalModels is PredictGroup's default number of networks per pass: 8 networks on 2,560 rows
// took 3.87, 3.90, 4.03 and 3.78 s in passes of 1, 2, 4 and 8 (medians of 3, 2 cores): the input side
// that a pass shares is small next to conv2 and the dense layers, so the number only bounds memory.
const DefaultEvalModels = 4

// PredictGroup returns pred[i][r], the digit network ws[i] predicts (the argmax of its 10 logits) for
// row rows[r] of ds: what Forward(ctx, b, ds.Subset(rows), ws[i], ForwardOptions{}).Predictions()
// gives, for all networks at once. On the pure-Go backend the input side is computed once for all
// networks: each batch's conv1 patches are built once, and the first convolution of every network is one
// wide product [32·M, 10]·[10, 196·B] per window position (groupForward); the rest is batched as in
// TrainGroup. Elsewhere each network runs Forward.
//
// Errors: no networks, invalid weights (wrong sizes, NaN), no rows or a row outside ds, a backend failure;
// ctx is checked before every pass.
func PredictGroup(ctx context.Context, b compute.Backend, ds *mnist.Dataset, ws []*Weights, rows []int, opts EvalOptions) ([][]uint8, error) {
	if len(ws) == 0 {
		return nil, errors.New("predict CNN group: no networks")
	}
	for i, w := range ws {
		if w == nil {
			return nil, fmt.Errorf("predict CNN group: network %d has no weights", i)
		}
		if err := w.validate(fmt.Sprintf("predict CNN group: network %d", i)); err != nil {
			return nil, err
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("predict CNN group: no rows")
	}
	for _, r := range rows {
		if r < 0 || r >= ds.N() {
			return nil, fmt.Errorf("predict CNN group: row %d outside 0..%d", r, ds.N()-1)
		}
	}
	bs, mm := opts.BatchSize, opts.MaxModels
	if bs <= 0 {
		bs = 128
	}
	if mm <= 0 {
		mm = DefaultEvalModels
	}
	bs = min(bs, len(rows))
	pred := make([][]uint8, len(ws))
	if !gomlxutil.IsGoBackend(b) {
		sub := ds.Subset(rows)
		for i, w := range ws {
			out, err := Forward(ctx, b, sub, w, ForwardOptions{})
			if err != nil {
				return nil, err
			}
			pred[i] = out.Predictions()
		}
		return pred, nil
	}
	for i := range pred {
		pred[i] = make([]uint8, len(rows))
	}
	batches := (len(rows) + bs - 1) / bs
	chunks := (len(ws) + mm - 1) / mm
	pixels := make([]uint8, bs*mnist.ImagePixels)
	done := 0
	for c := 0; c < chunks; c++ {
		lo, hi := c*mm, min((c+1)*mm, len(ws))
		fw, err := newGroupForward(b, ws[lo:hi], bs)
		if err != nil {
			return nil, err
		}
		for k := 0; k < batches; k++ {
			if err := ctx.Err(); err != nil {
				fw.close()
				return nil, err
			}
			s, e := k*bs, min((k+1)*bs, len(rows))
			clear(pixels) // a short last batch is zero-padded to keep one shape
			for i, r := range rows[s:e] {
				copy(pixels[i*mnist.ImagePixels:(i+1)*mnist.ImagePixels], ds.Pixels[r*mnist.ImagePixels:(r+1)*mnist.ImagePixels])
			}
			_, logits, err := fw.run(pixels, false)
			if err != nil {
				fw.close()
				return nil, err
			}
			err = tensors.ConstFlatData(logits, func(l []float32) {
				for j := 0; j < hi-lo; j++ {
					lj := l[j*10*bs : (j+1)*10*bs]
					for i := 0; i < e-s; i++ {
						best := 0
						for d := 1; d < 10; d++ {
							if lj[d*bs+i] > lj[best*bs+i] {
								best = d
							}
						}
						pred[lo+j][s+i] = uint8(best)
					}
				}
			})
			logits.FinalizeAll()
			if err != nil {
				fw.close()
				return nil, err
			}
			done++
			if opts.Progress != nil {
				opts.Progress(progress.Report{Stage: "CNN group predictions", Done: done, Total: batches * chunks})
			}
		}
		fw.close()
	}
	return pred, nil
}

// groupForward is the forward pass of M networks over shared batches of B images on the pure-Go
// backend: host conv1 patches (once), conv1 of all networks as one wide product (per network for
// batches under 67 images, where one network alone takes the backend's small kernel), host pooling (one
// fused pass, poolForward) and conv2 patches per network, conv2 batched, host pooling, and the dense
// head batched (the logits per network, as alone). Every product is the one Forward computes alone,
// with the same kernel (see groupDot), so the outputs are bitwise Forward's.
type groupForward struct {
	be                 compute.Backend
	m, b               int
	conv1, conv2, head *graph.Exec
	w1                 *tensors.Tensor            // [32·M, 10]: every network's W1a, stacked
	params             [colParams]*tensors.Tensor // [M, …] (params[0] unused)
	p1                 [4]*tensors.Tensor         // [10, 196·B], shared
	p1f                [4][]float32
	p2                 [4]*tensors.Tensor // [M, 289, 49·B]
	p2f                [4][]float32
	flat               *tensors.Tensor // [M, 3136, B]
	flatf              []float32
	a1                 []float32 // [M, 32, 196·B]
	idx1, idx2         []uint8   // unused first-maximum indices
	norm               []float32
}

// newGroupForward uploads the networks' weights and builds the graphs for batches of b images.
func newGroupForward(be compute.Backend, ws []*Weights, b int) (*groupForward, error) {
	m := len(ws)
	f := &groupForward{be: be, m: m, b: b, a1: make([]float32, m*32*196*b), norm: make([]float32, mnist.ImagePixels*b)}
	cols := make([][colParams][]float32, m)
	for j, w := range ws {
		cols[j] = toColumns(w.Params)
	}
	for l, shape := range colShapes {
		size := shapeSize(shape)
		data := make([]float32, 0, m*size)
		for j := range cols {
			data = append(data, cols[j][l]...)
		}
		if l == 0 {
			f.w1 = tensors.FromFlatDataAndDimensions(data, 32*m, colK1)
			continue
		}
		f.params[l] = tensors.FromFlatDataAndDimensions(data, append([]int{m}, shape...)...)
	}
	var err error
	for q := 0; q < 4; q++ {
		if f.p1[q], f.p1f[q], err = hostTensor(be, colK1, 196*b); err != nil {
			f.close()
			return nil, err
		}
		if f.p2[q], f.p2f[q], err = hostTensor(be, m, colK2, 49*b); err != nil {
			f.close()
			return nil, err
		}
	}
	if f.flat, f.flatf, err = hostTensor(be, m, 3136, b); err != nil {
		f.close()
		return nil, err
	}
	if f.conv1, err = gomlxutil.NewExec(be, func(in []*graph.Node) []*graph.Node {
		out := make([]*graph.Node, 4) // W1 [32·M, 10], then P1_q
		for q := range out {
			if 32*colK1*196*b >= smallProductFlops {
				out[q] = matmul(in[0], in[1+q]) // the large kernel, as for one network alone
				continue
			}
			parts := make([]*graph.Node, m) // the small kernel, network by network
			for j := range parts {
				parts[j] = matmul(graph.Slice(in[0], graph.AxisRange(32*j, 32*(j+1))), in[1+q])
			}
			out[q] = graph.Concatenate(parts, 0)
		}
		return out
	}); err != nil {
		f.close()
		return nil, err
	}
	if f.conv2, err = gomlxutil.NewExec(be, func(in []*graph.Node) []*graph.Node {
		out := make([]*graph.Node, 4) // W2a, then P2_q
		for q := range out {
			out[q] = groupDot(in[0], 1, in[1+q], 0)
		}
		return out
	}); err != nil {
		f.close()
		return nil, err
	}
	if f.head, err = gomlxutil.NewExec(be, func(in []*graph.Node) []*graph.Node {
		flat, w4, b4, w6, b6 := in[0], in[1], in[2], in[3], in[4]
		h := graph.Add(groupDot(w4, 1, flat, 0), graph.Reshape(b4, m, 200, 1))
		emb := relu0(h)
		logits := make([]*graph.Node, m)
		for j := range logits {
			logits[j] = addRowBias(matmul(modelOf(w6, j), modelOf(emb, j)), modelVec(b6, j))
		}
		return []*graph.Node{emb, stack(logits)}
	}); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// run computes the embeddings [M, 200, B] (with emb; else nil) and logits [M, 10, B] of a batch of B
// images (uint8 pixels, B·784). The caller finalizes the returned tensors.
func (f *groupForward) run(pixels []uint8, emb bool) (embT, logits *tensors.Tensor, err error) {
	m, b := f.m, f.b
	im2col1(f.p1f, pixels, b, f.norm)
	z1, err := gomlxutil.ExecSafe(f.conv1, []any{f.w1, f.p1[0], f.p1[1], f.p1[2], f.p1[3]})
	if err != nil {
		return nil, nil, err
	}
	var z [4][]float32
	for q := range z {
		if z[q], err = constFlat(z1[q]); err != nil {
			finalizeAll(z1)
			return nil, nil, err
		}
	}
	poolForward(f.a1, z) // [32·M, 196·B] is [M, 32, 196·B]
	finalizeAll(z1)
	size1, size2 := 32*196*b, colK2*49*b
	for j := 0; j < m; j++ {
		var dst [4][]float32
		for q := range dst {
			dst[q] = f.p2f[q][j*size2 : (j+1)*size2]
		}
		im2col2(dst, f.a1[j*size1:(j+1)*size1], b)
	}
	z2, err := gomlxutil.ExecSafe(f.conv2, []any{f.params[1], f.p2[0], f.p2[1], f.p2[2], f.p2[3]})
	if err != nil {
		return nil, nil, err
	}
	for q := range z {
		if z[q], err = constFlat(z2[q]); err != nil {
			finalizeAll(z2)
			return nil, nil, err
		}
	}
	poolForward(f.flatf, z)
	finalizeAll(z2)
	out, err := gomlxutil.ExecSafe(f.head, []any{f.flat, f.params[2], f.params[3], f.params[4], f.params[5]})
	if err != nil {
		return nil, nil, err
	}
	if !emb {
		out[0].FinalizeAll()
		return nil, out[1], nil
	}
	return out[0], out[1], nil
}

func (f *groupForward) close() {
	for _, e := range []*graph.Exec{f.conv1, f.conv2, f.head} {
		if e != nil {
			e.Finalize()
		}
	}
	ts := []*tensors.Tensor{f.w1, f.flat}
	ts = append(append(append(ts, f.params[1:]...), f.p1[:]...), f.p2[:]...)
	for _, t := range ts {
		if t != nil {
			t.FinalizeAll()
		}
	}
}
