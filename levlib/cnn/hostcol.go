package cnn

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// MnistConvNet on the pure-Go backend ("host columns"): every convolution is one matrix product per
// 2×2 pooling window position over patch matrices that the host builds, and every large tensor is laid
// out channel-major with the batch fastest ([C, H, W, B]), so that:
//
//   - the products take the Go backend's AVX-512/AVX2 kernels in their layouts (contracting axis last
//     on the left, first or last on the right): no DotGeneral transposes an activation;
//   - max-pooling is an elementwise Max of four same-shaped tensors, and its gradient (to the first
//     maximum in row-major order, as PyTorch's) 0/1 masks multiplied in: no Reshape+ReduceMax, no Slice;
//   - biases ride along as a row of ones in the patches (an extra weight column): no broadcast Add;
//   - patch extraction (im2col) and its adjoint (col2im) are copies of contiguous runs of B values on
//     the host, where the backend's generic Slice copied element by element.
//
// Measured on 2 cores (CNN training, batch 64): 920 images/s with the single-graph im2col formulation,
// whose profile was 23% Slice, 18% Transpose, 19% matrix products.
//
// The parameters are kept in "column" layout while training: W1a [32, 10] (the 3×3 kernel in (kh, kw)
// order, then the bias), W2a [64, 289] (columns (kh, kw, c), then the bias), then the dense layers as
// PyTorch has them (W4 [200, 3136], b4, W6 [10, 200], b6). toColumns and fromColumns convert exactly.

// Sizes of the host-column formulation.
const (
	colK1     = 10       // conv1 patch rows: 9 pixels and a one
	colK2     = 9*32 + 1 // conv2 patch rows: 9 × 32 channels and a one
	colParams = 6        // W1a, W2a, W4, b4, W6, b6
)

// colShapes are the shapes of the column-layout parameters.
var colShapes = [colParams][]int{{32, colK1}, {64, colK2}, {200, 3136}, {200}, {10, 200}, {10}}

// toColumns converts PyTorch-layout parameters (Weights order: weight, bias per layer) to the
// column layout.
func toColumns(p [8][]float32) [colParams][]float32 {
	var c [colParams][]float32
	c[0], c[1] = make([]float32, 32*colK1), make([]float32, 64*colK2)
	// conv1: [32,1,3,3] → W1a[o, kh·3+kw].
	for o := 0; o < 32; o++ {
		copy(c[0][o*colK1:o*colK1+9], p[0][o*9:(o+1)*9])
		c[0][o*colK1+9] = p[1][o]
	}
	// conv2: [64,32,3,3] → W2a[o, (kh·3+kw)·32 + ci].
	for o := 0; o < 64; o++ {
		for ci := 0; ci < 32; ci++ {
			for k := 0; k < 9; k++ {
				c[1][o*colK2+k*32+ci] = p[2][(o*32+ci)*9+k]
			}
		}
		c[1][o*colK2+288] = p[3][o]
	}
	for i := 2; i < colParams; i++ { // the dense layers as they are
		c[i] = append([]float32(nil), p[i+2]...)
	}
	return c
}

// fromColumns is the inverse of toColumns.
func fromColumns(c [colParams][]float32) [8][]float32 {
	var p [8][]float32
	for i, s := range paramShapes[:4] {
		p[i] = make([]float32, shapeSize(s))
	}
	for o := 0; o < 32; o++ {
		copy(p[0][o*9:(o+1)*9], c[0][o*colK1:o*colK1+9])
		p[1][o] = c[0][o*colK1+9]
	}
	for o := 0; o < 64; o++ {
		for ci := 0; ci < 32; ci++ {
			for k := 0; k < 9; k++ {
				p[2][(o*32+ci)*9+k] = c[1][o*colK2+k*32+ci]
			}
		}
		p[3][o] = c[1][o*colK2+288]
	}
	for i := 2; i < colParams; i++ {
		p[i+2] = append([]float32(nil), c[i]...)
	}
	return p
}

// window returns the offsets (dh, dw) of pooling window position q in PyTorch's row-major order.
func window(q int) (int, int) { return q / 2, q % 2 }

// im2col1 fills the conv1 patch matrices P1_q [10, 196·B] (columns (y2, x2, b)) of a batch of images
// (uint8 pixels, B·784): row kh·3+kw holds the normalized pixel (p/255 − mean)/std at
// (2·y2 + dh + kh − 1, 2·x2 + dw + kw − 1), zero outside the image (PyTorch pads after Normalize);
// row 9 is ones. norm is scratch of 784·B values.
func im2col1(dst [4][]float32, pixels []uint8, b int, norm []float32) {
	gomlxutil.ParallelFor(mnist.ImagePixels, func(lo, hi int) { // normalized images, transposed to [784, B]
		for pix := lo; pix < hi; pix++ {
			row := norm[pix*b : (pix+1)*b]
			for i := range row {
				row[i] = float32((float64(pixels[i*mnist.ImagePixels+pix])/255 - MNISTMean) / MNISTStd)
			}
		}
	})
	const m = 14 * 14
	gomlxutil.ParallelFor(4*colK1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			q, k := r/colK1, r%colK1
			out := dst[q][k*m*b : (k+1)*m*b]
			if k == 9 {
				for i := range out {
					out[i] = 1
				}
				continue
			}
			dh, dw := window(q)
			kh, kw := k/3, k%3
			for y2 := 0; y2 < 14; y2++ {
				y := 2*y2 + dh + kh - 1
				for x2 := 0; x2 < 14; x2++ {
					x := 2*x2 + dw + kw - 1
					run := out[(y2*14+x2)*b : (y2*14+x2+1)*b]
					if y < 0 || y >= mnist.ImageSide || x < 0 || x >= mnist.ImageSide {
						clear(run)
					} else {
						copy(run, norm[(y*mnist.ImageSide+x)*b:(y*mnist.ImageSide+x+1)*b])
					}
				}
			}
		}
	})
}

// im2col2 fills the conv2 patch matrices P2_q [289, 49·B] (columns (y2, x2, b)) from p1 [32, 14, 14, B]:
// row (kh·3+kw)·32 + c holds p1[c, 2·y2+dh+kh−1, 2·x2+dw+kw−1, :], zero outside; row 288 is ones.
func im2col2(dst [4][]float32, p1 []float32, b int) {
	const m = 7 * 7
	gomlxutil.ParallelFor(4*colK2, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			q, row := r/colK2, r%colK2
			out := dst[q][row*m*b : (row+1)*m*b]
			if row == 288 {
				for i := range out {
					out[i] = 1
				}
				continue
			}
			dh, dw := window(q)
			k, c := row/32, row%32
			kh, kw := k/3, k%3
			src := p1[c*196*b : (c+1)*196*b]
			for y2 := 0; y2 < 7; y2++ {
				y := 2*y2 + dh + kh - 1
				for x2 := 0; x2 < 7; x2++ {
					x := 2*x2 + dw + kw - 1
					run := out[(y2*7+x2)*b : (y2*7+x2+1)*b]
					if y < 0 || y >= 14 || x < 0 || x >= 14 {
						clear(run)
					} else {
						copy(run, src[(y*14+x)*b:(y*14+x+1)*b])
					}
				}
			}
		}
	})
}

// col2im2 is the adjoint of im2col2 without the ones row: dp1 [32, 14, 14, B] = Σ_q scatter(dP_q), with
// dP_q [288, 49·B]. add adds a run of B values into dp1: addToScalar, or addToKernel (vectorized; the
// sums are made in the same order, so the result is bitwise the same).
func col2im2(dp1 []float32, dp [4][]float32, b int, add func(dst, src []float32)) {
	const m = 7 * 7
	gomlxutil.ParallelFor(32, func(lo, hi int) { // by channel: each goroutine owns its channels of dp1
		for c := lo; c < hi; c++ {
			out := dp1[c*196*b : (c+1)*196*b]
			clear(out)
			for q := 0; q < 4; q++ {
				dh, dw := window(q)
				for k := 0; k < 9; k++ {
					kh, kw := k/3, k%3
					src := dp[q][(k*32+c)*m*b : (k*32+c+1)*m*b]
					for y2 := 0; y2 < 7; y2++ {
						y := 2*y2 + dh + kh - 1
						if y < 0 || y >= 14 {
							continue
						}
						for x2 := 0; x2 < 7; x2++ {
							x := 2*x2 + dw + kw - 1
							if x < 0 || x >= 14 {
								continue
							}
							add(out[(y*14+x)*b:(y*14+x+1)*b], src[(y2*7+x2)*b:(y2*7+x2+1)*b])
						}
					}
				}
			}
		}
	})
}

// pool4 is 2×2 max-pooling over the four window-position tensors.
func pool4(z [4]*graph.Node) *graph.Node {
	return graph.Max(graph.Max(z[0], z[1]), graph.Max(z[2], z[3]))
}

// route4 sends d (the gradient of pool4's output m) to the first of z_0…z_3 equal to m, as PyTorch's
// max_pool2d does on ties (common: a blank region gives equal activations). Masks are multiplied in as
// 0/1 values (rest − rest·e is exact): measured faster than a chain of Wheres, whose branches mispredict.
func route4(z [4]*graph.Node, m, d *graph.Node) [4]*graph.Node {
	var out [4]*graph.Node
	rest := d
	for q := 0; q < 3; q++ {
		e := graph.ConvertDType(graph.Equal(z[q], m), d.DType())
		out[q] = graph.Mul(rest, e)
		rest = graph.Sub(rest, out[q])
	}
	out[3] = rest
	return out
}

// reluMask returns d where x > 0 and 0 elsewhere (PyTorch's ReLU gradient, 0 at 0).
func reluMask(x, d *graph.Node) *graph.Node {
	return graph.Mul(d, graph.ConvertDType(graph.GreaterThan(x, graph.ScalarZero(x.Graph(), x.DType())), d.DType()))
}

func relu0(x *graph.Node) *graph.Node { return graph.Max(x, graph.ScalarZero(x.Graph(), x.DType())) }

// matmul is a·b for a [n, k], b [k, m]; matmulT is a·bᵀ for b [m, k]; tmatmul is aᵀ·b for a [k, n].
func matmul(a, b *graph.Node) *graph.Node {
	return graph.DotGeneral(a, []int{1}, nil, b, []int{0}, nil)
}

func matmulT(a, b *graph.Node) *graph.Node {
	return graph.DotGeneral(a, []int{1}, nil, b, []int{1}, nil)
}

func tmatmul(a, b *graph.Node) *graph.Node {
	return graph.DotGeneral(a, []int{0}, nil, b, []int{0}, nil)
}

// dropLastCol returns w without its last column (the bias column of W2a).
func dropLastCol(w *graph.Node) *graph.Node {
	d := w.Shape().Dimensions
	return graph.Slice(w, graph.AxisRange(), graph.AxisRange(0, d[1]-1))
}

// addRowBias adds b [R] to every column of x [R, B].
func addRowBias(x, b *graph.Node) *graph.Node {
	return graph.Add(x, graph.Reshape(b, b.Shape().Dimensions[0], 1))
}

// colConv1 computes the four window-position outputs of conv1 and the pooled, ReLU'd p1 [32, 196·B].
func colConv1(w1a *graph.Node, p1 []*graph.Node) (z [4]*graph.Node, pooled, out *graph.Node) {
	for q := range z {
		z[q] = matmul(w1a, p1[q])
	}
	pooled = pool4(z)
	return z, pooled, relu0(pooled)
}

// colHead holds the forward pass from the conv2 patches to the logits.
type colHead struct {
	z2            [4]*graph.Node
	pooled2, flat *graph.Node // flat = relu(pooled2) as [3136, B], rows in PyTorch's (c, y, x) order
	h, emb        *graph.Node // [200, B]
	logits        *graph.Node // [10, B]
}

// colForwardHead runs conv2 (W2a), pooling, fc1 (W4, b4), ReLU and fc2 (W6, b6) on the conv2 patches.
func colForwardHead(w [5]*graph.Node, p2 []*graph.Node) *colHead {
	f := &colHead{}
	for q := range f.z2 {
		f.z2[q] = matmul(w[0], p2[q]) // [64, 49·B]
	}
	f.pooled2 = pool4(f.z2)
	b := f.pooled2.Shape().Dimensions[1] / 49
	f.flat = graph.Reshape(relu0(f.pooled2), 64*49, b) // (c, y, x) × b: PyTorch's flatten order
	f.h = addRowBias(matmul(w[1], f.flat), w[2])       // [200, B]
	f.emb = relu0(f.h)
	f.logits = addRowBias(matmul(w[3], f.emb), w[4]) // [10, B]
	return f
}

// colBackwardHead returns the gradients of W2a, W4, b4, W6, b6 and of the conv2 patches (without the
// ones row, [288, 49·B] per window position) given ∂loss/∂logits.
func colBackwardHead(w [5]*graph.Node, p2 []*graph.Node, f *colHead, dLogits *graph.Node) (dW [5]*graph.Node, dP [4]*graph.Node) {
	dW[3] = matmulT(dLogits, f.emb)     // [10, 200]
	dW[4] = graph.ReduceSum(dLogits, 1) // [10]
	dEmb := tmatmul(w[3], dLogits)      // [200, B]
	dH := reluMask(f.h, dEmb)
	dW[1] = matmulT(dH, f.flat)    // [200, 3136]
	dW[2] = graph.ReduceSum(dH, 1) // [200]
	// dFlat = W4ᵀ·dH, computed as (dHᵀ·W4)ᵀ: the backend transposes dH [200, B] and the product
	// [B, 3136] instead of W4 [200, 3136].
	b := dH.Shape().Dimensions[1]
	dFlat := graph.Transpose(graph.DotGeneral(dH, []int{0}, nil, w[1], []int{0}, nil), 0, 1) // [3136, B]
	dPooled := reluMask(f.pooled2, graph.Reshape(dFlat, 64, 49*b))
	dz := route4(f.z2, f.pooled2, dPooled)
	w2 := dropLastCol(w[0]) // [64, 288]
	for q := range dz {
		g := matmulT(dz[q], p2[q]) // [64, 289]
		if dW[0] == nil {
			dW[0] = g
		} else {
			dW[0] = graph.Add(dW[0], g)
		}
		dP[q] = tmatmul(w2, dz[q]) // [288, 49·B]
	}
	return dW, dP
}

// colBackwardConv1 returns the gradient of W1a given dp1 = ∂loss/∂p1 [32, 196·B].
func colBackwardConv1(w1a *graph.Node, p1 []*graph.Node, dp1 *graph.Node) *graph.Node {
	z, pooled, _ := colConv1(w1a, p1)
	dz := route4(z, pooled, reluMask(pooled, dp1))
	var dW *graph.Node
	for q := range dz {
		g := matmulT(dz[q], p1[q]) // [32, 10]
		if dW == nil {
			dW = g
		} else {
			dW = graph.Add(dW, g)
		}
	}
	return dW
}

// colBatch holds the host-side tensors of one batch size, reused from batch to batch (shared with the
// backend where it allows, so the products read the host's writes without a copy).
type colBatch struct {
	b      int
	p1, p2 [4]*tensors.Tensor
	norm   []float32
}

func newColBatch(be compute.Backend, b int) (*colBatch, error) {
	cb := &colBatch{b: b, norm: make([]float32, mnist.ImagePixels*b)}
	for q := 0; q < 4; q++ {
		var err error
		if cb.p1[q], err = tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, colK1, 196*b)); err != nil {
			return nil, err
		}
		if cb.p2[q], err = tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, colK2, 49*b)); err != nil {
			return nil, err
		}
	}
	return cb, nil
}

// mutableFlats runs f on the host storage of the four tensors. Each flat slice is used after its
// MutableFlatData callback returns: that is safe because these tensors come from FromShapeForBackend,
// whose host buffer is the tensor's storage for its whole life, and because nothing else uses them while
// f runs. f must not keep the slices.
func mutableFlats(ts [4]*tensors.Tensor, f func(flats [4][]float32)) error {
	var flats [4][]float32
	for q, t := range ts {
		if err := tensors.MutableFlatData(t, func(flat []float32) { flats[q] = flat }); err != nil {
			return err
		}
	}
	f(flats)
	return nil
}

func (cb *colBatch) close() {
	for q := 0; q < 4; q++ {
		cb.p1[q].FinalizeAll()
		cb.p2[q].FinalizeAll()
	}
}

// setImages builds the conv1 patches of images [B, 28, 28] (uint8).
func (cb *colBatch) setImages(pixels []uint8) error {
	return mutableFlats(cb.p1, func(flats [4][]float32) { im2col1(flats, pixels, cb.b, cb.norm) })
}

// setP1 builds the conv2 patches from p1 [32, 196·B].
func (cb *colBatch) setP1(p1 *tensors.Tensor) error {
	var err error
	cerr := tensors.ConstFlatData(p1, func(src []float32) {
		err = mutableFlats(cb.p2, func(flats [4][]float32) { im2col2(flats, src, cb.b) })
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// colForwardExecs are the two graphs of a forward pass: conv1 (patches → p1) and the head (conv2
// patches → embedding [200, B] and logits [10, B]).
type colForwardExecs struct {
	conv1, head *graph.Exec
}

func newColForwardExecs(be compute.Backend) (*colForwardExecs, error) {
	conv1, err := gomlxutil.NewExec(be, func(in []*graph.Node) *graph.Node {
		_, _, p1 := colConv1(in[4], in[:4])
		return p1
	})
	if err != nil {
		return nil, err
	}
	head, err := gomlxutil.NewExec(be, func(in []*graph.Node) []*graph.Node {
		f := colForwardHead([5]*graph.Node(in[4:9]), in[:4])
		return []*graph.Node{f.emb, f.logits}
	})
	if err != nil {
		conv1.Finalize()
		return nil, err
	}
	return &colForwardExecs{conv1: conv1, head: head}, nil
}

func (e *colForwardExecs) Finalize() {
	e.conv1.Finalize()
	e.head.Finalize()
}

// run computes the embedding and logits of a batch whose conv1 patches are set in cb; params are the
// column-layout parameter tensors.
func (e *colForwardExecs) run(cb *colBatch, params [colParams]*tensors.Tensor) (emb, logits *tensors.Tensor, err error) {
	args := []any{cb.p1[0], cb.p1[1], cb.p1[2], cb.p1[3], params[0]}
	out, err := gomlxutil.ExecSafe(e.conv1, args)
	if err != nil {
		return nil, nil, err
	}
	err = cb.setP1(out[0])
	out[0].FinalizeAll()
	if err != nil {
		return nil, nil, err
	}
	out, err = gomlxutil.ExecSafe(e.head, []any{cb.p2[0], cb.p2[1], cb.p2[2], cb.p2[3], params[1], params[2], params[3], params[4], params[5]})
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// columnTensors uploads column-layout parameters as tensors.
func columnTensors(c [colParams][]float32) [colParams]*tensors.Tensor {
	var t [colParams]*tensors.Tensor
	for l := range c {
		t[l] = tensors.FromFlatDataAndDimensions(c[l], colShapes[l]...)
	}
	return t
}
