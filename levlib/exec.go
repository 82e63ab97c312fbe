package levlib

import (
	"context"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// defaultChunkElems bounds one row chunk sent to the backend: 4Mi float64 values (32 MiB).
const defaultChunkElems = 1 << 22

// chunkRows returns how many rows a chunk of an n×d matrix holds: at most maxElems/d (or want, when
// positive), with chunks of equal size so that the zero padding of the last one is small.
func chunkRows(n, d, want int) int {
	c := want
	if c <= 0 {
		c = max(1, defaultChunkElems/d)
	}
	if c >= n {
		return n
	}
	chunks := (n + c - 1) / c
	return (n + chunks - 1) / chunks
}

// chunkTensor returns rows [lo, lo+c) of m as a c×Cols float64 tensor, zero-padded past m.Rows.
func chunkTensor(m *Matrix, lo, c int) *tensors.Tensor {
	hi := min(lo+c, m.Rows)
	data := m.Data[lo*m.Cols : hi*m.Cols]
	if hi-lo < c {
		padded := make([]float64, c*m.Cols)
		copy(padded, data)
		data = padded
	}
	return tensors.FromFlatDataAndDimensions(data, c, m.Cols)
}

// execChunks runs exec over m in row chunks of c rows (the last one zero-padded), passing extra
// tensors after the chunk, and calls each(lo, hi, outputs) for the valid rows [lo, hi). It checks ctx
// between chunks and calls tick after each. GoMLX panics are turned into errors.
func execChunks(ctx context.Context, exec *graph.Exec, m *Matrix, c int, extra []any, tick func(),
	each func(lo, hi int, out []*tensors.Tensor) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend computation failed: %v", r)
		}
	}()
	for lo := 0; lo < m.Rows; lo += c {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := chunkTensor(m, lo, c)
		out, err := exec.Exec(append([]any{in}, extra...)...)
		in.FinalizeAll()
		if err != nil {
			return err
		}
		err = each(lo, min(lo+c, m.Rows), out)
		for _, t := range out {
			t.FinalizeAll()
		}
		if err != nil {
			return err
		}
		if tick != nil {
			tick()
		}
	}
	return nil
}

// newExec wraps graph.NewExec, turning a panic into an error.
func newExec[F graph.ExecGraphFn](b compute.Backend, fn F) (e *graph.Exec, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("building computation: %v", r)
		}
	}()
	if b == nil {
		return nil, fmt.Errorf("no GoMLX backend given")
	}
	return graph.NewExec(b, fn)
}

// tensorFromMatrix converts a small host matrix to a tensor.
func tensorFromMatrix(m *Matrix) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(m.Data, m.Rows, m.Cols)
}
