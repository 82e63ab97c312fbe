package cnn

import (
	"fmt"
	"math"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// LoadTorch reads a PyTorch state_dict of MnistConvNet (a .pth file in the zip format torch.save
// writes since PyTorch 1.6, read with gopickle) into Weights. Before gopickle sees the file it is
// checked (CheckTorchFile, then the archive's records and data.pkl's opcodes and storage sizes), so
// that no input makes the loader loop or allocate beyond the file's size; the legacy format (PyTorch <
// 1.6) is refused with a hint. It checks every name and shape against ParamNames/ParamShapes, that
// the Normalize buffers net.0.mean and net.0.std (if present) are MNIST's 0.1307 and 0.3081, and that
// the values are finite; errors name the file and the entry and wrap ErrBadWeightsFile.
func LoadTorch(path string) (w *Weights, err error) {
	defer func() {
		if r := recover(); r != nil { // gopickle can panic on malformed input
			w, err = nil, fmt.Errorf("%s: %w: %v", path, ErrBadWeightsFile, r)
		}
	}()
	st, err := CheckTorchFile(path)
	if err != nil {
		return nil, err
	}
	if err := guardTorch(path, st.Size()); err != nil {
		return nil, err
	}
	obj, err := pytorch.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: not a PyTorch file: %v", path, ErrBadWeightsFile, err)
	}
	dict, ok := obj.(*types.OrderedDict)
	if !ok {
		return nil, fmt.Errorf("%s: %w: holds a %T, want a state_dict", path, ErrBadWeightsFile, obj)
	}
	get := func(name string) (*pytorch.Tensor, error) {
		e, ok := dict.Map[name]
		if !ok {
			return nil, fmt.Errorf("%s: %w: no entry %q (not an MnistConvNet state_dict?)", path, ErrBadWeightsFile, name)
		}
		t, ok := e.Value.(*pytorch.Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: %w: entry %q is a %T, want a tensor", path, ErrBadWeightsFile, name, e.Value)
		}
		return t, nil
	}
	w = &Weights{}
	for i, name := range paramNames {
		t, err := get(name)
		if err != nil {
			return nil, err
		}
		data, err := torchFloats(t, paramShapes[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w: entry %q: %v", path, ErrBadWeightsFile, name, err)
		}
		w.Params[i] = data
	}
	for _, buf := range []struct {
		name string
		want float64
	}{{"net.0.mean", MNISTMean}, {"net.0.std", MNISTStd}} {
		if _, ok := dict.Map[buf.name]; !ok {
			continue
		}
		t, err := get(buf.name)
		if err != nil {
			return nil, err
		}
		v, err := torchFloats(t, nil)
		if err != nil || len(v) != 1 || math.Abs(float64(v[0])-buf.want) > 1e-6 {
			return nil, fmt.Errorf("%s: %w: %s = %v, want %g (the architecture hard-codes it)", path, ErrBadWeightsFile, buf.name, v, buf.want)
		}
	}
	if len(dict.Map) > len(paramNames)+2 {
		return nil, fmt.Errorf("%s: %w: %d entries, MnistConvNet has %d", path, ErrBadWeightsFile, len(dict.Map), len(paramNames)+2)
	}
	return w, w.validate(path)
}

// torchFloats returns the elements of a float32 tensor in row-major order; shape nil accepts a scalar
// or one-element tensor.
func torchFloats(t *pytorch.Tensor, shape []int) ([]float32, error) {
	st, ok := t.Source.(*pytorch.FloatStorage)
	if !ok {
		return nil, fmt.Errorf("storage %T, want float32", t.Source)
	}
	if shape == nil {
		if shapeSize(t.Size) != 1 || t.StorageOffset >= len(st.Data) {
			return nil, fmt.Errorf("size %v, want a scalar", t.Size)
		}
		return []float32{st.Data[t.StorageOffset]}, nil
	}
	if len(t.Size) != len(shape) {
		return nil, fmt.Errorf("size %v, want %v", t.Size, shape)
	}
	for i := range shape {
		if t.Size[i] != shape[i] {
			return nil, fmt.Errorf("size %v, want %v", t.Size, shape)
		}
	}
	n := shapeSize(shape)
	out := make([]float32, n)
	idx := make([]int, len(shape))
	for k := 0; k < n; k++ {
		off := t.StorageOffset
		for d := range idx {
			off += idx[d] * t.Stride[d]
		}
		if off < 0 || off >= len(st.Data) {
			return nil, fmt.Errorf("element %v outside the storage", idx)
		}
		out[k] = st.Data[off]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}
