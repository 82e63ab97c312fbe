package matrixio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/levstudy/levstudy/internal/fileio"
)

// WriteNPYVector writes scores to path as a 1-D float64 .npy file of shape (N,) (EncodeNPYVector),
// atomically.
func WriteNPYVector(path string, scores []float64) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error { return EncodeNPYVector(w, scores) })
}

// WriteNPY writes m as a NumPy .npy file (format 1.0, little-endian float32 '<f4', C order, shape
// (Rows, Cols)), atomically. Values are rounded to the nearest float32. It is WriteNPYAs(path, m,
// "float32").
func WriteNPY(path string, m *Matrix) error {
	return WriteNPYAs(path, m, "float32")
}

// WriteNPYAs writes m as a NumPy .npy file of the given dtype, "float32" ('<f4') or "float64" ('<f8'),
// atomically (see EncodeNPY for the format and WriteAtomic for the atomicity). Errors name the path.
func WriteNPYAs(path string, m *Matrix, dtype string) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error { return EncodeNPY(w, m, dtype) })
}

// EncodeNPY writes m to w in the NumPy .npy format: the magic "\x93NUMPY", format version 1.0, the
// header {'descr': '<f8', 'fortran_order': False, 'shape': (Rows, Cols), } padded with spaces and
// ended with '\n' so that the data starts at a multiple of 64 bytes, then the values in row-major (C)
// order, little-endian. dtype is "float32" ('<f4'; values rounded to the nearest float32) or
// "float64" ('<f8'; exact). NaN and ±Inf are written as they are. A matrix with zero rows or columns
// is written as a valid empty array (which OpenNPY refuses). Errors: an unknown dtype, a malformed m
// (len(Data) ≠ Rows·Cols), or w's write error. EncodeNPY writes in 64 KiB blocks, so w need not be
// buffered.
func EncodeNPY(w io.Writer, m *Matrix, dtype string) error {
	descr, size := "", 0
	switch dtype {
	case "float32":
		descr, size = "<f4", 4
	case "float64":
		descr, size = "<f8", 8
	default:
		return fmt.Errorf("dtype %q is not supported (want \"float32\" or \"float64\")", dtype)
	}
	if m == nil || m.Rows < 0 || m.Cols < 0 || len(m.Data) != m.Rows*m.Cols {
		if m == nil {
			return fmt.Errorf("nil matrix")
		}
		return fmt.Errorf("malformed matrix: %d values for %d×%d", len(m.Data), m.Rows, m.Cols)
	}
	if _, err := w.Write(npyPreamble(descr, fmt.Sprintf("(%d, %d)", m.Rows, m.Cols))); err != nil {
		return err
	}
	const block = 64 << 10
	buf := make([]byte, 0, block)
	for _, v := range m.Data {
		if size == 4 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
		} else {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		if len(buf) == block {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// EncodeNPYVector writes v to w as a 1-D NumPy .npy file of shape (len(v),) and dtype float64 ('<f8'),
// in the layout EncodeNPY describes: np.load gives back v exactly. Errors are w's.
func EncodeNPYVector(w io.Writer, v []float64) error {
	if _, err := w.Write(npyPreamble("<f8", fmt.Sprintf("(%d,)", len(v)))); err != nil {
		return err
	}
	const block = 64 << 10
	buf := make([]byte, 0, block)
	for _, x := range v {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		if len(buf) == block {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// npyPreamble returns the magic, version 1.0, header length and header of a C-order .npy file of the
// given shape (a Python tuple: "(3, 2)", "(5,)"), padded with spaces so that its length is a multiple
// of 64 (the NumPy spec's alignment), ending in '\n'. A 1-D or 2-D header is under 200 bytes, so it
// always fits version 1.0's 2-byte length.
func npyPreamble(descr, shape string) []byte {
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	pad := (64 - (10+len(header)+1)%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	b := make([]byte, 0, 10+len(header))
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	return append(b, header...)
}
