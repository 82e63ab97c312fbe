package basis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomlx/compute"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// MaxFileCols is the largest number of columns D that LeverageOfFile accepts (leverage.MaxCols): the
// engine keeps a few D×D float64 matrices (the Gram matrix and its factors, 8·D² bytes each: 2 GiB at
// D = 16384) in memory, whatever N is.
const MaxFileCols = leverage.MaxCols

// FileBasisError is the error for a file basis used where MNIST images are needed.
func FileBasisError(k Kind) error {
	return fmt.Errorf("%s bases are read with levstudy leverage (basis.LeverageOfFile), not as study bases: they are not MNIST images", k)
}

// OpenFile opens the file of an npy or csv basis for reading in row chunks: an *NPYFile (OpenNPY)
// or a *matrixio.CSVFile (matrixio.OpenCSV). The caller must close it with the returned io.Closer (the same
// value). Errors name the file and what is wrong with it (see OpenNPY and matrixio.OpenCSV); a spec of
// another kind is an error.
func OpenFile(spec Spec) (matrixio.RowSource, io.Closer, error) {
	switch spec.Kind {
	case KindNPY:
		f, err := matrixio.OpenNPY(spec.Path)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	case KindCSV:
		f, err := matrixio.OpenCSV(spec.Path)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	}
	return nil, nil, fmt.Errorf("basis %s is not a file basis (want npy:PATH or csv:PATH)", spec)
}

// LeverageOfFile returns the leverage scores of the N×D matrix in the file of an npy or csv basis,
// read from disk in row chunks by leverage.Scores (see there for the formulas and opts), so that N may
// exceed the memory: besides one chunk (opts.ChunkRows, by default about 48 MiB) and a few D×D
// matrices it holds only the N scores.
//
// Errors name the file: those of OpenFile (a dtype other than float32/float64, Fortran order, a
// truncated file, a CSV field that is not a number, …); N < D ("probably transposed": leverage
// ranks rows, so a matrix with fewer rows than columns gives every row ℓ = 1 when its rank is N);
// D > MaxFileCols; a NaN or ±Inf, naming its row and column (counted from 0, and for a CSV file the
// column's header name); and those of leverage.Scores, wrapped.
func LeverageOfFile(ctx context.Context, b compute.Backend, spec Spec, opts leverage.Options) (*leverage.Result, error) {
	src, closer, err := OpenFile(spec)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	n, d := src.Dims()
	if n < d {
		return nil, fmt.Errorf("%s: %d rows < %d columns: the matrix is probably transposed (want one row per sample and one column per feature; in NumPy save X.T)",
			spec.Path, n, d)
	}
	if d > MaxFileCols {
		return nil, fmt.Errorf("%s: %d columns, at most %d are supported (the D×D Gram matrix alone needs %.1f GiB)",
			spec.Path, d, MaxFileCols, float64(d)*float64(d)*8/(1<<30))
	}
	res, err := leverage.Scores(ctx, b, src, opts)
	if err != nil {
		var nf *matrixio.NonFiniteError
		if errors.As(err, &nf) {
			if c, ok := src.(*matrixio.CSVFile); ok {
				name := c.Columns()[nf.Col]
				col := strconv.Quote(name)
				if name == "" {
					col = strconv.Itoa(nf.Col + 1)
				}
				return nil, fmt.Errorf("%s: data row %d (counted from 0 after the header), column %s is %v: leverage needs finite values",
					spec.Path, nf.Row, col, nf.Value)
			}
			return nil, fmt.Errorf("%s: row %d, column %d (X[%d, %d], counted from 0) is %v: leverage needs finite values",
				spec.Path, nf.Row, nf.Col, nf.Row, nf.Col, nf.Value)
		}
		return nil, fmt.Errorf("leverage of basis %s: %w", spec, err)
	}
	return res, closer.Close()
}

// FileSource describes the file of an npy or csv basis for a leverage.Summary: its size, modification
// time and (npy) dtype. It reads only the file's metadata and (npy) header. Errors are os.Stat's and
// OpenNPY's, naming the file, or a spec that is not a file basis.
func FileSource(spec Spec) (leverage.Source, error) {
	src := leverage.Source{Basis: spec.String(), Path: spec.Path, Format: string(spec.Kind)}
	if !spec.Kind.IsFile() {
		return src, fmt.Errorf("basis %s is not a file basis (want npy:PATH or csv:PATH)", spec)
	}
	st, err := os.Stat(spec.Path)
	if err != nil {
		return src, err
	}
	if abs, err := filepath.Abs(spec.Path); err == nil {
		src.Path = abs
	}
	src.Size, src.Modified = st.Size(), st.ModTime().UTC().Format(time.RFC3339Nano)
	if spec.Kind == KindNPY {
		f, err := matrixio.OpenNPY(spec.Path)
		if err != nil {
			return src, err
		}
		src.DType = f.DType()
		f.Close()
	}
	return src, nil
}
