package gomlxutil

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// DefaultChunkElems bounds one row chunk sent to the backend: 6Mi float64 values (48 MiB), 8,023 rows
// of 784 columns. Measured on the pure-Go backend with AVX-512 (2 cores), exact leverage of MNIST RAW
// took 1.74, 1.71, 1.71, 1.65 and 1.71 s with chunks of 2,000, 4,000, 5,350, 8,000 and 12,000 rows.
const DefaultChunkElems = 6 << 20

// ChunkRows returns how many rows a chunk of an n×d matrix holds: at most defaultChunkElems/d (or want,
// when positive), with chunks of equal size so that the zero padding of the last one is small.
func ChunkRows(n, d, want int) int {
	c := want
	if c <= 0 {
		c = max(1, DefaultChunkElems/d)
	}
	if c >= n {
		return max(n, 1)
	}
	chunks := (n + c - 1) / c
	return (n + chunks - 1) / chunks
}

// Chunker reads a RowSource in chunks of Rows rows as float64 tensors, the last chunk zero-padded (so
// that one compiled graph serves every chunk). It can keep only some columns, in a given order, and
// scale them (tensor column j is row[Cols[j]]·Scale[j]); split the kept columns into blocks, one tensor
// each; and transpose the blocks ([width, Rows]) so that a Gram product XᵀX is the layout the backend's
// matrix kernels take without a transpose (the contracting axis last on both sides). The tensors are
// reused from chunk to chunk (shared with the backend where it allows).
type Chunker struct {
	src   matrixio.RowSource
	b     compute.Backend
	n, d  int
	Rows  int
	Cols  []int     // source columns to keep, in order; nil keeps all
	Scale []float64 // per kept column; nil means 1
	// Scale2, if not nil, is a second factor per kept column (tensor column j is
	// row[Cols[j]]·Scale[j]·Scale2[j]): a power of two beyond the float64 range (2^1063 for a column
	// of subnormal numbers) is applied as two.
	Scale2 []float64
	// MaxAbs, if not nil (one per kept column), receives the largest |x| of each kept column over the
	// rows read (before scaling); NaN is ignored.
	MaxAbs []float64
	// Blocks are boundaries over the kept columns: block k is [Blocks[k], Blocks[k+1]); nil is one block.
	Blocks []int
	// Transposed makes each block a [width, Rows] tensor.
	Transposed bool
	// CheckFinite makes each read fail on a NaN or ±Inf, naming its row and column.
	CheckFinite bool
	buf         []float64
	ts          []*tensors.Tensor
}

func NewChunker(b compute.Backend, src matrixio.RowSource, wantRows int) *Chunker {
	n, d := src.Dims()
	return &Chunker{src: src, b: b, n: n, d: d, Rows: ChunkRows(n, d, wantRows)}
}

// Width is the number of kept columns.
func (c *Chunker) Width() int {
	if c.Cols != nil {
		return len(c.Cols)
	}
	return c.d
}

// Chunks is how many chunks a pass reads.
// N is the number of rows of the source.
func (c *Chunker) N() int { return c.n }

func (c *Chunker) Chunks() int { return (c.n + c.Rows - 1) / c.Rows }

// bounds returns the block boundaries.
func (c *Chunker) Bounds() []int {
	if c.Blocks != nil {
		return c.Blocks
	}
	return []int{0, c.Width()}
}

// RowViewer is a RowSource that can lend its rows without a copy (an in-memory *Matrix).
type RowViewer interface {
	RowsView(lo, hi int) []float64
}

// read returns rows [lo, lo+Rows) as one tensor per block (zero past n). The tensors stay owned by c.
// Filling them (gathering, scaling, transposing, checking) is split over GOMAXPROCS goroutines by
// columns: on 2 cores it was 12% of a RAW leverage pass when done by one.
func (c *Chunker) Read(lo int) ([]*tensors.Tensor, error) {
	hi := min(lo+c.Rows, c.n)
	rows := hi - lo
	var raw []float64
	if v, ok := c.src.(RowViewer); ok {
		raw = v.RowsView(lo, hi)
	} else {
		if c.buf == nil {
			c.buf = make([]float64, c.Rows*c.d)
		}
		raw = c.buf[:rows*c.d]
		if err := c.src.ReadRows(raw, lo, hi); err != nil {
			return nil, err
		}
	}
	bounds := c.Bounds()
	if c.ts == nil {
		for k := 0; k+1 < len(bounds); k++ {
			dims := []int{c.Rows, bounds[k+1] - bounds[k]}
			if c.Transposed {
				dims[0], dims[1] = dims[1], dims[0]
			}
			t, err := tensors.FromShapeForBackend(c.b, 0, shapes.Make(dtypes.Float64, dims...))
			if err != nil {
				return nil, err
			}
			c.ts = append(c.ts, t)
		}
	}
	flats := make([][]float64, len(c.ts))
	for k, t := range c.ts {
		err := tensors.MutableFlatData(t, func(flat []float64) { flats[k] = flat })
		if err != nil {
			return nil, err
		}
	}
	// Each worker fills a range of kept columns and reports the first non-finite raw index it saw; the
	// smallest over the workers is the first bad value in row order.
	var mu sync.Mutex
	first := -1
	ParallelFor(c.Width(), func(j0, j1 int) {
		if k := c.fill(flats, bounds, raw, rows, j0, j1); k >= 0 {
			mu.Lock()
			if first < 0 || k < first {
				first = k
			}
			mu.Unlock()
		}
	})
	if first >= 0 {
		return nil, &matrixio.NonFiniteError{Row: lo + first/c.d, Col: first % c.d, Value: raw[first]}
	}
	return c.ts, nil
}

// fill writes kept columns [j0, j1) of rows raw into the block tensors and zeroes their padding. With
// CheckFinite it returns the smallest raw index of a NaN or ±Inf among the columns read, else -1.
func (c *Chunker) fill(flats [][]float64, bounds []int, raw []float64, rows, j0, j1 int) int {
	cols, scale, scale2, maxAbs := c.Cols, c.Scale, c.Scale2, c.MaxAbs
	if cols == nil {
		cols = xslices.Iota(c.Width())
	}
	if scale == nil {
		scale = make([]float64, c.Width())
		for j := range scale {
			scale[j] = 1
		}
	}
	bad := -1
	const tile = 64 // rows per tile of a transposed write: the tile's rows stay in cache across columns
	for k := 0; k+1 < len(bounds); k++ {
		b0, b1 := max(bounds[k], j0), min(bounds[k+1], j1)
		if b0 >= b1 {
			continue
		}
		bk, bw := bounds[k], bounds[k+1]-bounds[k]
		flat := flats[k]
		if c.Transposed {
			for i0 := 0; i0 < rows; i0 += tile {
				i1 := min(i0+tile, rows)
				for j := b0; j < b1; j++ {
					src, sc := cols[j], scale[j]
					dst := flat[(j-bk)*c.Rows+i0 : (j-bk)*c.Rows+i1]
					m := 0.0 // the tile's largest |x| of this column (NaN ignored)
					for i := range dst {
						v := raw[(i0+i)*c.d+src]
						if v-v != 0 && c.CheckFinite && (bad < 0 || (i0+i)*c.d+src < bad) {
							bad = (i0+i)*c.d + src
						}
						if a := math.Abs(v); a > m {
							m = a
						}
						dst[i] = v * sc
					}
					if scale2 != nil && scale2[j] != 1 {
						for i := range dst {
							dst[i] *= scale2[j]
						}
					}
					if maxAbs != nil && m > maxAbs[j] {
						maxAbs[j] = m
					}
				}
			}
			for j := b0; j < b1; j++ {
				clear(flat[(j-bk)*c.Rows+rows : (j-bk+1)*c.Rows])
			}
			continue
		}
		cs, ss := cols[b0:b1], scale[b0:b1]
		for i := 0; i < rows; i++ {
			dst, row := flat[i*bw+b0-bk:i*bw+b1-bk], raw[i*c.d:(i+1)*c.d]
			for j, src := range cs {
				v := row[src]
				if v-v != 0 && c.CheckFinite && (bad < 0 || i*c.d+src < bad) {
					bad = i*c.d + src
				}
				dst[j] = v * ss[j]
				if scale2 != nil {
					dst[j] *= scale2[b0+j]
				}
				if maxAbs != nil && math.Abs(v) > maxAbs[b0+j] {
					maxAbs[b0+j] = math.Abs(v)
				}
			}
		}
		for i := rows; i < c.Rows; i++ {
			clear(flat[i*bw+b0-bk : i*bw+b1-bk])
		}
	}
	return bad
}

// Close frees the chunk tensors.
func (c *Chunker) Close() {
	for _, t := range c.ts {
		t.FinalizeAll()
	}
	c.ts = nil
}

// run executes exec on every chunk (the block tensors first, then extra), and calls
// each(lo, hi, outputs) for the valid rows [lo, hi). It checks ctx between chunks and calls tick after
// each. GoMLX panics become errors.
func (c *Chunker) Run(ctx context.Context, exec *graph.Exec, extra []any, tick func(),
	each func(lo, hi int, out []*tensors.Tensor) error) error {
	defer c.Close()
	for lo := 0; lo < c.n; lo += c.Rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		in, err := c.Read(lo)
		if err != nil {
			return err
		}
		args := make([]any, 0, len(in)+len(extra))
		for _, t := range in {
			args = append(args, t)
		}
		out, err := ExecSafe(exec, append(args, extra...))
		if err != nil {
			return err
		}
		err = each(lo, min(lo+c.Rows, c.n), out)
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

// NewExec wraps graph.NewExec, turning a panic into an error.
func NewExec[F graph.ExecGraphFn](b compute.Backend, fn F) (e *graph.Exec, err error) {
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

// ExecSafe runs exec, turning GoMLX panics into errors.
func ExecSafe(exec *graph.Exec, args []any) (out []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend computation failed: %v", r)
		}
	}()
	return exec.Call(args...)
}

// TensorFromMatrix converts a small host matrix to a tensor.
func TensorFromMatrix(m *matrixio.Matrix) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(m.Data, m.Rows, m.Cols)
}

// ParallelFor runs f(lo, hi) over [0, n) split among GOMAXPROCS goroutines.
func ParallelFor(n int, f func(lo, hi int)) {
	w := min(max(1, runtime.GOMAXPROCS(0)), n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		lo, hi := g*n/w, (g+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// IsGoBackend reports whether b is GoMLX's pure-Go backend (named "Go Backend", configured as "go"),
// where host code may replace parts of a graph (the CNN's host columns and passes, the linear
// classifier's host step).
func IsGoBackend(b compute.Backend) bool {
	return b != nil && (b.Name() == "Go Backend" || fmt.Sprint(b) == "go")
}

// ReplaceTensors finalizes the tensors of dst and puts src in their place.
func ReplaceTensors(dst []*tensors.Tensor, src []*tensors.Tensor) {
	for i := range dst {
		dst[i].FinalizeAll()
		dst[i] = src[i]
	}
}
