package matrixio

import (
	"errors"
	"fmt"
)

func (m *Matrix) RowsView(lo, hi int) []float64 { return m.Data[lo*m.Cols : hi*m.Cols] }

// Matrix is a dense row-major float64 matrix: element (i, j) is Data[i*Cols+j]. A basis is a Matrix
// with one row per sample and one column per feature.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// NewMatrix returns a zero rows×cols matrix.
func NewMatrix(rows, cols int) *Matrix {
	return &Matrix{Rows: rows, Cols: cols, Data: make([]float64, rows*cols)}
}

// Row returns row i, aliasing m.Data.
func (m *Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// CheckShape reports a matrix that is empty or whose Data does not hold Rows×Cols values. (Finiteness
// is checked where the values are read: the leverage engine's first pass.)
func (m *Matrix) CheckShape() error {
	if m == nil || m.Rows <= 0 || m.Cols <= 0 {
		return errors.New("empty matrix")
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("%d values for a %d×%d matrix", len(m.Data), m.Rows, m.Cols)
	}
	return nil
}
