package levlib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gomlx/compute"
)

// MaxFileCols is the largest number of columns D that LeverageScoresFile accepts: the engine keeps a
// few D×D float64 matrices (the Gram matrix and its factors, 8·D² bytes each: 2 GiB at D = 16384) in
// memory, whatever N is.
const MaxFileCols = 16384

// errFileBasis is the error for a file basis used where MNIST images are needed.
func errFileBasis(k BasisKind) error {
	return fmt.Errorf("%s bases are read with levstudy leverage (LeverageScoresFile), not as study bases: they are not MNIST images", k)
}

// OpenBasisFile opens the file of an npy or csv basis for reading in row chunks: an *NPYFile (OpenNPY)
// or a *CSVMatrix (OpenCSVMatrix). The caller must close it with the returned io.Closer (the same
// value). Errors name the file and what is wrong with it (see OpenNPY and OpenCSVMatrix); a spec of
// another kind is an error.
func OpenBasisFile(spec BasisSpec) (RowSource, io.Closer, error) {
	switch spec.Kind {
	case KindNPY:
		f, err := OpenNPY(spec.Path)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	case KindCSV:
		f, err := OpenCSVMatrix(spec.Path)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	}
	return nil, nil, fmt.Errorf("basis %s is not a file basis (want npy:PATH or csv:PATH)", spec)
}

// LeverageScoresFile returns the leverage scores of the N×D matrix in the file of an npy or csv basis,
// read from disk in row chunks by LeverageScores (see there for the formulas and opts), so that N may
// exceed the memory: besides one chunk (opts.ChunkRows, by default about 48 MiB) and a few D×D
// matrices it holds only the N scores.
//
// Errors name the file: those of OpenBasisFile (a dtype other than float32/float64, Fortran order, a
// truncated file, a CSV field that is not a number, …); N < D ("probably transposed": leverage
// ranks rows, so a matrix with fewer rows than columns gives every row ℓ = 1 when its rank is N);
// D > MaxFileCols; a NaN or ±Inf, naming its row and column (counted from 0, and for a CSV file the
// column's header name); and those of LeverageScores, wrapped.
func LeverageScoresFile(ctx context.Context, b compute.Backend, spec BasisSpec, opts LeverageOptions) (*LeverageResult, error) {
	src, closer, err := OpenBasisFile(spec)
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
	res, err := LeverageScores(ctx, b, src, opts)
	if err != nil {
		var nf *NonFiniteError
		if errors.As(err, &nf) {
			if c, ok := src.(*CSVMatrix); ok {
				col := strconv.Quote(c.cols[nf.Col])
				if c.cols[nf.Col] == "" {
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
