package levlib

import "fmt"

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

// validate checks that the matrix is well formed and finite, naming the first bad element.
func (m *Matrix) validate(name string) error {
	if m == nil || m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("basis %s: empty matrix", name)
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("basis %s: %d values for a %d×%d matrix", name, len(m.Data), m.Rows, m.Cols)
	}
	for k, v := range m.Data {
		if v-v != 0 { // NaN or ±Inf
			return fmt.Errorf("basis %s: row %d, column %d is %v", name, k/m.Cols, k%m.Cols, v)
		}
	}
	return nil
}
