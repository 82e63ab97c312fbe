package cnn

import (
	"context"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// ForwardOptions selects the rows and the graph formulation of Forward.
type ForwardOptions struct {
	// Lo and Hi select rows [Lo, Hi) of the dataset (Hi = 0 means all rows).
	Lo, Hi int
	// BatchSize of each backend call (0 means 128, or 2048 with NativeConv).
	BatchSize int
	// Impl is the formulation (the zero value, ConvAuto, picks the backend's best).
	Impl ConvImpl
	// progress.Report, if not nil, is called after each batch.
	Progress func(progress.Report) `json:"-"`
}

// Outputs are the embeddings and logits of rows [Lo, Hi).
type Outputs struct {
	Lo        int
	Embedding *matrixio.Matrix // (Hi−Lo)×200, the output of the ReLU after the first dense layer
	Logits    []float32        // (Hi−Lo)×10
}

// Accuracy returns the fraction of rows whose argmax logit is the label.
func (o *Outputs) Accuracy(ds *mnist.Dataset) float64 {
	p := o.Predictions()
	if len(p) == 0 {
		return math.NaN()
	}
	return mnist.Accuracy(p, ds.Labels[o.Lo:o.Lo+len(p)])
}

// forwardImpl resolves ConvAuto for a forward pass.
func forwardImpl(b compute.Backend) ConvImpl {
	switch {
	case isXLA(b):
		return NativeConv
	case gomlxutil.IsGoBackend(b):
		return HostColumns
	}
	return Im2Col
}

// isXLA reports whether b is the XLA/PJRT backend.
func isXLA(b compute.Backend) bool { return b != nil && b.Name() == "xla" }

// Forward runs MnistConvNet with weights w over rows of ds and returns the embeddings (as float64)
// and the logits.
func Forward(ctx context.Context, b compute.Backend, ds *mnist.Dataset, w *Weights, opts ForwardOptions) (*Outputs, error) {
	if err := w.validate("CNN weights"); err != nil {
		return nil, err
	}
	lo, hi := opts.Lo, opts.Hi
	if hi == 0 {
		hi = ds.N()
	}
	if lo < 0 || hi > ds.N() || lo >= hi {
		return nil, fmt.Errorf("forward CNN: rows [%d, %d) outside the %d rows", lo, hi, ds.N())
	}
	if opts.Impl == ConvAuto {
		opts.Impl = forwardImpl(b)
	}
	bs := opts.BatchSize
	if bs <= 0 {
		bs = 128 // measured on the pure-Go backend, host columns: 11,500 images/s at 128, 10,500 at 256, 8,700 at 512
		if opts.Impl == NativeConv {
			bs = 2048 // fill an accelerator
		}
	}
	bs = min(bs, hi-lo)
	out := &Outputs{Lo: lo, Embedding: matrixio.NewMatrix(hi-lo, EmbeddingDim), Logits: make([]float32, 10*(hi-lo))}
	batches := (hi - lo + bs - 1) / bs
	xb := make([]uint8, bs*mnist.ImagePixels)
	var run func() (emb, logits []float32, err error)
	var embT bool // the embedding comes as [200, B] (host columns) instead of [B, 200]
	if opts.Impl == HostColumns {
		// The forward pass of a group of one network (groupForward): bitwise colForwardExecs' results,
		// with the pooling fused on the host.
		fw, err := newGroupForward(b, []*Weights{w}, bs)
		if err != nil {
			return nil, err
		}
		defer fw.close()
		embT = true
		run = func() ([]float32, []float32, error) {
			e, l, err := fw.run(xb, true)
			if err != nil {
				return nil, nil, err
			}
			defer e.FinalizeAll()
			defer l.FinalizeAll()
			return tensors.MustCopyFlatData[float32](e), tensors.MustCopyFlatData[float32](l), nil
		}
	} else {
		exec, err := gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
			a := cnnForward(in[:8], in[8], opts.Impl)
			return []*graph.Node{a.emb, a.logits}
		})
		if err != nil {
			return nil, err
		}
		defer exec.Finalize()
		params := make([]any, 8)
		for i, p := range w.Params {
			t := tensors.FromFlatDataAndDimensions(p, paramShapes[i]...)
			defer t.FinalizeAll()
			params[i] = t
		}
		run = func() ([]float32, []float32, error) {
			xt := tensors.FromFlatDataAndDimensions(xb, bs, mnist.ImageSide, mnist.ImageSide)
			res, err := gomlxutil.ExecSafe(exec, append(append([]any{}, params...), xt))
			xt.FinalizeAll()
			if err != nil {
				return nil, nil, err
			}
			defer res[0].FinalizeAll()
			defer res[1].FinalizeAll()
			return tensors.MustCopyFlatData[float32](res[0]), tensors.MustCopyFlatData[float32](res[1]), nil
		}
	}
	for k := 0; k < batches; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := lo + k*bs
		e := min(s+bs, hi)
		clear(xb)
		copy(xb, ds.Pixels[s*mnist.ImagePixels:e*mnist.ImagePixels]) // the last batch is zero-padded to keep one shape
		emb, logits, err := run()
		if err != nil {
			return nil, err
		}
		for i := 0; i < e-s; i++ {
			dst := out.Embedding.Row(s - lo + i)
			for j := range dst {
				if embT {
					dst[j] = float64(emb[j*bs+i])
				} else {
					dst[j] = float64(emb[i*EmbeddingDim+j])
				}
			}
			for c := 0; c < 10; c++ {
				if embT {
					out.Logits[(s-lo+i)*10+c] = logits[c*bs+i]
				} else {
					out.Logits[(s-lo+i)*10+c] = logits[i*10+c]
				}
			}
		}
		if opts.Progress != nil {
			opts.Progress(progress.Report{Stage: "CNN forward", Done: k + 1, Total: batches})
		}
	}
	return out, nil
}

// Predictions returns the argmax digit of each row's logits.
func (o *Outputs) Predictions() []uint8 {
	n := len(o.Logits) / 10
	p := make([]uint8, n)
	for i := range p {
		p[i] = uint8(xslices.Argmax(o.Logits[10*i : 10*i+10]))
	}
	return p
}
