package levlib

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteNPY writes m as a NumPy .npy file (format 1.0, little-endian float32, C order, shape
// (Rows, Cols)), atomically.
func WriteNPY(path string, m *Matrix) error {
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", m.Rows, m.Cols)
	// magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	return WriteAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString("\x93NUMPY\x01\x00")
		binary.Write(bw, binary.LittleEndian, uint16(len(header)))
		bw.WriteString(header)
		var b [4]byte
		for _, v := range m.Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(float32(v)))
			bw.Write(b[:])
		}
		return bw.Flush()
	})
}
