package levlib

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// defaultChunkElems bounds one row chunk sent to the backend: 6Mi float64 values (48 MiB), 8,023 rows
// of 784 columns. Measured on the pure-Go backend with AVX-512 (2 cores), exact leverage of MNIST RAW
// took 1.74, 1.71, 1.71, 1.65 and 1.71 s with chunks of 2,000, 4,000, 5,350, 8,000 and 12,000 rows.
const defaultChunkElems = 6 << 20

// chunkRows returns how many rows a chunk of an n×d matrix holds: at most defaultChunkElems/d (or want,
// when positive), with chunks of equal size so that the zero padding of the last one is small.
func chunkRows(n, d, want int) int {
	c := want
	if c <= 0 {
		c = max(1, defaultChunkElems/d)
	}
	if c >= n {
		return max(n, 1)
	}
	chunks := (n + c - 1) / c
	return (n + chunks - 1) / chunks
}

// NonFiniteError is the error LeverageScores returns for a NaN or ±Inf in X, at row Row and column Col
// (both counted from 0, as X[Row, Col] in NumPy). Callers that know where the rows come from (a file,
// its lines) can say more with errors.As.
type NonFiniteError struct {
	Row, Col int
	Value    float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("row %d, column %d is %v", e.Row, e.Col, e.Value)
}

// chunker reads a RowSource in chunks of Rows rows as float64 tensors, the last chunk zero-padded (so
// that one compiled graph serves every chunk). It can keep only some columns, in a given order, and
// scale them (tensor column j is row[Cols[j]]·Scale[j]); split the kept columns into blocks, one tensor
// each; and transpose the blocks ([width, Rows]) so that a Gram product XᵀX is the layout the backend's
// matrix kernels take without a transpose (the contracting axis last on both sides). The tensors are
// reused from chunk to chunk (shared with the backend where it allows).
type chunker struct {
	src   RowSource
	b     compute.Backend
	n, d  int
	Rows  int
	Cols  []int     // source columns to keep, in order; nil keeps all
	Scale []float64 // per kept column; nil means 1
	// Blocks are boundaries over the kept columns: block k is [Blocks[k], Blocks[k+1]); nil is one block.
	Blocks []int
	// Transposed makes each block a [width, Rows] tensor.
	Transposed bool
	// CheckFinite makes each read fail on a NaN or ±Inf, naming its row and column.
	CheckFinite bool
	buf         []float64
	ts          []*tensors.Tensor
}

func newChunker(b compute.Backend, src RowSource, wantRows int) *chunker {
	n, d := src.Dims()
	return &chunker{src: src, b: b, n: n, d: d, Rows: chunkRows(n, d, wantRows)}
}

// Width is the number of kept columns.
func (c *chunker) Width() int {
	if c.Cols != nil {
		return len(c.Cols)
	}
	return c.d
}

// Chunks is how many chunks a pass reads.
func (c *chunker) Chunks() int { return (c.n + c.Rows - 1) / c.Rows }

// bounds returns the block boundaries.
func (c *chunker) bounds() []int {
	if c.Blocks != nil {
		return c.Blocks
	}
	return []int{0, c.Width()}
}

// rowViewer is a RowSource that can lend its rows without a copy (an in-memory *Matrix).
type rowViewer interface {
	rowsView(lo, hi int) []float64
}

func (m *Matrix) rowsView(lo, hi int) []float64 { return m.Data[lo*m.Cols : hi*m.Cols] }

// read returns rows [lo, lo+Rows) as one tensor per block (zero past n). The tensors stay owned by c.
// Filling them (gathering, scaling, transposing, checking) is split over GOMAXPROCS goroutines by
// columns: on 2 cores it was 12% of a RAW leverage pass when done by one.
func (c *chunker) read(lo int) ([]*tensors.Tensor, error) {
	hi := min(lo+c.Rows, c.n)
	rows := hi - lo
	var raw []float64
	if v, ok := c.src.(rowViewer); ok {
		raw = v.rowsView(lo, hi)
	} else {
		if c.buf == nil {
			c.buf = make([]float64, c.Rows*c.d)
		}
		raw = c.buf[:rows*c.d]
		if err := c.src.ReadRows(raw, lo, hi); err != nil {
			return nil, err
		}
	}
	bounds := c.bounds()
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
	parallelFor(c.Width(), func(j0, j1 int) {
		if k := c.fill(flats, bounds, raw, rows, j0, j1); k >= 0 {
			mu.Lock()
			if first < 0 || k < first {
				first = k
			}
			mu.Unlock()
		}
	})
	if first >= 0 {
		return nil, &NonFiniteError{Row: lo + first/c.d, Col: first % c.d, Value: raw[first]}
	}
	return c.ts, nil
}

// fill writes kept columns [j0, j1) of rows raw into the block tensors and zeroes their padding. With
// CheckFinite it returns the smallest raw index of a NaN or ±Inf among the columns read, else -1.
func (c *chunker) fill(flats [][]float64, bounds []int, raw []float64, rows, j0, j1 int) int {
	cols, scale := c.Cols, c.Scale
	if cols == nil {
		cols = seqInts(c.Width())
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
					for i := range dst {
						v := raw[(i0+i)*c.d+src]
						if v-v != 0 && c.CheckFinite && (bad < 0 || (i0+i)*c.d+src < bad) {
							bad = (i0+i)*c.d + src
						}
						dst[i] = v * sc
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
			}
		}
		for i := rows; i < c.Rows; i++ {
			clear(flat[i*bw+b0-bk : i*bw+b1-bk])
		}
	}
	return bad
}

// close frees the chunk tensors.
func (c *chunker) close() {
	for _, t := range c.ts {
		t.FinalizeAll()
	}
	c.ts = nil
}

// run executes exec on every chunk (the block tensors first, then extra), and calls
// each(lo, hi, outputs) for the valid rows [lo, hi). It checks ctx between chunks and calls tick after
// each. GoMLX panics become errors.
func (c *chunker) run(ctx context.Context, exec *graph.Exec, extra []any, tick func(),
	each func(lo, hi int, out []*tensors.Tensor) error) error {
	defer c.close()
	for lo := 0; lo < c.n; lo += c.Rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		in, err := c.read(lo)
		if err != nil {
			return err
		}
		args := make([]any, 0, len(in)+len(extra))
		for _, t := range in {
			args = append(args, t)
		}
		out, err := execSafe(exec, append(args, extra...))
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

// execSafe runs exec, turning GoMLX panics into errors.
func execSafe(exec *graph.Exec, args []any) (out []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("backend computation failed: %v", r)
		}
	}()
	return exec.Call(args...)
}

// tensorFromMatrix converts a small host matrix to a tensor.
func tensorFromMatrix(m *Matrix) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(m.Data, m.Rows, m.Cols)
}

// parallelFor runs f(lo, hi) over [0, n) split among GOMAXPROCS goroutines.
func parallelFor(n int, f func(lo, hi int)) {
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
