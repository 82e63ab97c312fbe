package cnn

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// cnnStepper trains MnistConvNet one batch at a time, keeping the parameters and Adam's moments on the
// device between steps and summing the batch losses there (no host round trip per step).
type cnnStepper interface {
	// step trains on one batch: pixels [n·784] and labels [n], Adam scalars c1, c2 (gomlxutil.AdamScalars).
	step(pixels, labels []uint8, c1, c2 float64) error
	// state returns the parameters and Adam's first and second moments, in PyTorch's layout.
	state() (p, m, v [8][]float32, err error)
	// lossSum returns the sum of the batch losses since the last setLoss, plus its value.
	lossSum() (float64, error)
	setLoss(v float64)
	close()
}

// newCNNStepper returns the stepper of a formulation (Im2Col: one graph per step, for XLA; HostColumns:
// the pure-Go backend's, see hostcol.go, with its elementwise passes fused on the host: a
// groupStepper of one network, bitwise colStepper's results), starting from p, m, v.
func newCNNStepper(b compute.Backend, impl ConvImpl, loss cnnLoss, p, m, v [8][]float32) (cnnStepper, error) {
	switch impl {
	case HostColumns:
		return newSoloStepper(b, loss, p, m, v)
	case Im2Col:
		return newGraphStepper(b, loss, p, m, v)
	}
	return nil, fmt.Errorf("train CNN: no training formulation for %v", impl)
}

// lossAccumulator keeps the sum of the batch losses as a float64 scalar tensor on the device.
type lossAccumulator struct{ t *tensors.Tensor }

func (l *lossAccumulator) set(t *tensors.Tensor) {
	if l.t != nil {
		l.t.FinalizeAll()
	}
	l.t = t
}

func (l *lossAccumulator) value() (float64, error) {
	v, err := tensors.CopyFlatData[float64](l.t)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

func (l *lossAccumulator) reset(v float64) { l.set(tensors.FromScalar(v)) }

// graphStepper is the single-graph formulation: im2col by slices, the hand-written backward pass
// (cnnBackward) and Adam in one graph, parameters in PyTorch's layout.
type graphStepper struct {
	exec    *graph.Exec
	state24 []*tensors.Tensor // params, m, v
	loss    lossAccumulator
}

func newGraphStepper(b compute.Backend, lossKind cnnLoss, p, m, v [8][]float32) (*graphStepper, error) {
	exec, err := gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		pp, mm, vv := in[0:8], in[8:16], in[16:24]
		x, y, c1, c2, lossSum := in[24], in[25], in[26], in[27], in[28]
		acts := cnnForward(pp, x, Im2Col)
		loss, dLogits := lossAndGrad(lossKind, acts.logits, y)
		grads := cnnBackward(pp, acts, dLogits)
		out := make([]*graph.Node, 25)
		for i, g := range grads {
			out[i], out[8+i], out[16+i] = gomlxutil.AdamUpdate(pp[i], g, mm[i], vv[i], c1, c2)
		}
		out[24] = graph.Add(lossSum, graph.ConvertDType(loss, lossSum.DType()))
		return out
	})
	if err != nil {
		return nil, err
	}
	s := &graphStepper{exec: exec}
	for _, set := range [][8][]float32{p, m, v} {
		for i, a := range set {
			s.state24 = append(s.state24, tensors.FromFlatDataAndDimensions(append([]float32(nil), a...), paramShapes[i]...))
		}
	}
	s.loss.reset(0)
	return s, nil
}

func (s *graphStepper) step(pixels, labels []uint8, c1, c2 float64) error {
	n := len(labels)
	y := make([]int32, n)
	for i, l := range labels {
		y[i] = int32(l)
	}
	xt := tensors.FromFlatDataAndDimensions(pixels[:n*mnist.ImagePixels], n, mnist.ImageSide, mnist.ImageSide)
	yt := tensors.FromFlatDataAndDimensions(y, n)
	defer xt.FinalizeAll()
	defer yt.FinalizeAll()
	args := make([]any, 0, 29)
	for _, t := range s.state24 {
		args = append(args, t)
	}
	args = append(args, xt, yt, float32(c1), float32(c2), s.loss.t)
	out, err := gomlxutil.ExecSafe(s.exec, args)
	if err != nil {
		return err
	}
	gomlxutil.ReplaceTensors(s.state24, out[:24])
	s.loss.set(out[24])
	return nil
}

func (s *graphStepper) state() (p, m, v [8][]float32, err error) {
	for i, t := range s.state24 {
		a, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return p, m, v, err
		}
		[]*[8][]float32{&p, &m, &v}[i/8][i%8] = a
	}
	return p, m, v, nil
}

func (s *graphStepper) lossSum() (float64, error) { return s.loss.value() }

func (s *graphStepper) setLoss(v float64) { s.loss.reset(v) }

func (s *graphStepper) close() {
	s.exec.Finalize()
	for _, t := range s.state24 {
		t.FinalizeAll()
	}
	s.loss.set(nil)
}

// colStepper is the host-column formulation (hostcol.go), three graphs per step: conv1 forward;
// conv2, the dense layers, the loss, their backward pass and Adam; conv1 backward and Adam. The host
// builds the patch matrices between them and folds the conv2 patch gradients back (col2im).
type colStepper struct {
	be               compute.Backend
	conv1, head, c1g *graph.Exec
	params, m, v     [colParams]*tensors.Tensor // column layout
	loss             lossAccumulator
	batches          map[int]*colBatch
	dp1, oneHot      map[int]*tensors.Tensor
}

func newColStepper(b compute.Backend, lossKind cnnLoss, p, m, v [8][]float32) (*colStepper, error) {
	s := &colStepper{be: b, batches: map[int]*colBatch{}, dp1: map[int]*tensors.Tensor{}, oneHot: map[int]*tensors.Tensor{}}
	var err error
	if s.conv1, err = gomlxutil.NewExec(b, func(in []*graph.Node) *graph.Node {
		_, _, p1 := colConv1(in[4], in[:4])
		return p1
	}); err != nil {
		return nil, err
	}
	// head: P2 ×4, params 1–5, m 1–5, v 1–5, one-hot, c1, c2, loss sum → dP2 ×4, params, m, v, loss sum.
	if s.head, err = gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		p2 := in[0:4]
		w, mm, vv := [5]*graph.Node(in[4:9]), in[9:14], in[14:19]
		oneHot, c1, c2, lossSum := in[19], in[20], in[21], in[22]
		f := colForwardHead(w, p2)
		loss, dLogits := lossGrad(lossKind, f.logits, oneHot, 0)
		dW, dP := colBackwardHead(w, p2, f, dLogits)
		out := append([]*graph.Node{}, dP[:]...)
		var nw, nm, nv [5]*graph.Node
		for i := range dW {
			nw[i], nm[i], nv[i] = gomlxutil.AdamUpdate(w[i], dW[i], mm[i], vv[i], c1, c2)
		}
		out = append(append(append(out, nw[:]...), nm[:]...), nv[:]...)
		return append(out, graph.Add(lossSum, graph.ConvertDType(loss, lossSum.DType())))
	}); err != nil {
		return nil, err
	}
	// conv1 gradient: P1 ×4, W1a, m1, v1, dp1, c1, c2 → W1a, m1, v1.
	if s.c1g, err = gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		dW := colBackwardConv1(in[4], in[:4], in[7])
		nw, nm, nv := gomlxutil.AdamUpdate(in[4], dW, in[5], in[6], in[8], in[9])
		return []*graph.Node{nw, nm, nv}
	}); err != nil {
		return nil, err
	}
	for i, set := range [][8][]float32{p, m, v} {
		*[]*[colParams]*tensors.Tensor{&s.params, &s.m, &s.v}[i] = columnTensors(toColumns(set))
	}
	s.loss.reset(0)
	return s, nil
}

// batch returns the host tensors of batch size n.
func (s *colStepper) batch(n int) (*colBatch, *tensors.Tensor, *tensors.Tensor, error) {
	if cb, ok := s.batches[n]; ok {
		return cb, s.dp1[n], s.oneHot[n], nil
	}
	cb, err := newColBatch(s.be, n)
	if err != nil {
		return nil, nil, nil, err
	}
	dp1, err := tensors.FromShapeForBackend(s.be, 0, shapes.Make(dtypes.Float32, 32, 196*n))
	if err != nil {
		return nil, nil, nil, err
	}
	oh, err := tensors.FromShapeForBackend(s.be, 0, shapes.Make(dtypes.Float32, 10, n))
	if err != nil {
		return nil, nil, nil, err
	}
	s.batches[n], s.dp1[n], s.oneHot[n] = cb, dp1, oh
	return cb, dp1, oh, nil
}

func (s *colStepper) step(pixels, labels []uint8, c1, c2 float64) error {
	n := len(labels)
	cb, dp1, oh, err := s.batch(n)
	if err != nil {
		return err
	}
	if err := cb.setImages(pixels[:n*mnist.ImagePixels]); err != nil {
		return err
	}
	if err := tensors.MutableFlatData(oh, func(flat []float32) {
		clear(flat)
		for i, l := range labels {
			flat[int(l)*n+i] = 1
		}
	}); err != nil {
		return err
	}
	out, err := gomlxutil.ExecSafe(s.conv1, []any{cb.p1[0], cb.p1[1], cb.p1[2], cb.p1[3], s.params[0]})
	if err != nil {
		return err
	}
	err = cb.setP1(out[0])
	out[0].FinalizeAll()
	if err != nil {
		return err
	}
	c1f, c2f := float32(c1), float32(c2)
	args := []any{cb.p2[0], cb.p2[1], cb.p2[2], cb.p2[3]}
	for _, set := range [][colParams]*tensors.Tensor{s.params, s.m, s.v} {
		for _, t := range set[1:] {
			args = append(args, t)
		}
	}
	args = append(args, oh, c1f, c2f, s.loss.t)
	out, err = gomlxutil.ExecSafe(s.head, args)
	if err != nil {
		return err
	}
	// Fold the conv2 patch gradients back onto p1 (col2im), then release them.
	var dp [4][]float32
	for q := 0; q < 4; q++ {
		if err := tensors.ConstFlatData(out[q], func(flat []float32) { dp[q] = flat }); err != nil {
			return err
		}
	}
	err = tensors.MutableFlatData(dp1, func(flat []float32) { col2im2(flat, dp, n, addToScalar) })
	for q := 0; q < 4; q++ {
		out[q].FinalizeAll()
	}
	if err != nil {
		return err
	}
	newW1, err := gomlxutil.ExecSafe(s.c1g, []any{cb.p1[0], cb.p1[1], cb.p1[2], cb.p1[3], s.params[0], s.m[0], s.v[0], dp1, c1f, c2f})
	if err != nil {
		return err
	}
	gomlxutil.ReplaceTensors(s.params[1:], out[4:9])
	gomlxutil.ReplaceTensors(s.m[1:], out[9:14])
	gomlxutil.ReplaceTensors(s.v[1:], out[14:19])
	s.loss.set(out[19])
	gomlxutil.ReplaceTensors([]*tensors.Tensor{s.params[0], s.m[0], s.v[0]}, newW1)
	s.params[0], s.m[0], s.v[0] = newW1[0], newW1[1], newW1[2]
	return nil
}

func (s *colStepper) state() (p, m, v [8][]float32, err error) {
	for i, set := range [][colParams]*tensors.Tensor{s.params, s.m, s.v} {
		var c [colParams][]float32
		for l, t := range set {
			if c[l], err = tensors.CopyFlatData[float32](t); err != nil {
				return p, m, v, err
			}
		}
		*[]*[8][]float32{&p, &m, &v}[i] = fromColumns(c)
	}
	return p, m, v, nil
}

func (s *colStepper) lossSum() (float64, error) { return s.loss.value() }

func (s *colStepper) setLoss(v float64) { s.loss.reset(v) }

func (s *colStepper) close() {
	for _, e := range []*graph.Exec{s.conv1, s.head, s.c1g} {
		e.Finalize()
	}
	for _, set := range [][colParams]*tensors.Tensor{s.params, s.m, s.v} {
		for _, t := range set {
			t.FinalizeAll()
		}
	}
	for n, cb := range s.batches {
		cb.close()
		s.dp1[n].FinalizeAll()
		s.oneHot[n].FinalizeAll()
	}
	s.loss.set(nil)
}
