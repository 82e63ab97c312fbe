package matrixio

import (
	"fmt"
)

// NonFiniteError is the error leverage.Scores returns for a NaN or ±Inf in X, at row Row and column Col
// (both counted from 0, as X[Row, Col] in NumPy). Callers that know where the rows come from (a file,
// its lines) can say more with errors.As.
type NonFiniteError struct {
	Row, Col int
	Value    float64
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("row %d, column %d is %v", e.Row, e.Col, e.Value)
}

// RowSource is an N×D matrix that the leverage engine reads in row chunks, so that the whole matrix
// never has to be in memory: an in-memory *Matrix, a NumPy .npy file read from disk (OpenNPY), a CSV
// file, or features computed chunk by chunk.
//
// Implementations need not be safe for concurrent use. ReadRows is called with increasing, contiguous
// ranges within one pass; a pass may start again at row 0.
type RowSource interface {
	// Dims returns the number of rows N and columns D.
	Dims() (rows, cols int)
	// ReadRows copies rows [lo, hi) into dst[:(hi−lo)·D], row-major, as float64. An error names
	// what is wrong (the file, the row).
	ReadRows(dst []float64, lo, hi int) error
}

// Dims returns the matrix's rows and columns.
func (m *Matrix) Dims() (rows, cols int) { return m.Rows, m.Cols }

// ReadRows copies rows [lo, hi) of m into dst.
func (m *Matrix) ReadRows(dst []float64, lo, hi int) error {
	if lo < 0 || hi > m.Rows || lo > hi {
		return fmt.Errorf("rows [%d, %d) outside the %d rows", lo, hi, m.Rows)
	}
	copy(dst[:(hi-lo)*m.Cols], m.Data[lo*m.Cols:hi*m.Cols])
	return nil
}
