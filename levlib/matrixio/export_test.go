package matrixio

import (
	"bytes"
	"fmt"
)

// Internals exposed to the levlib_test package.

// ParseNPYBytes parses and checks the preamble and header of the .npy file whose bytes are b, as
// OpenNPY does (for FuzzNPYHeader).
func ParseNPYBytes(b []byte) (dtype string, rows, cols int, dataOff int64, err error) {
	l, err := parseNPY(bytes.NewReader(b), int64(len(b)))
	return l.dtype, l.rows, l.cols, l.dataOff, err
}

// NPYPreamble is the magic, version, header length and header that EncodeNPY writes.
func NPYPreamble(descr string, rows, cols int) []byte {
	return npyPreamble(descr, fmt.Sprintf("(%d, %d)", rows, cols))
}

// NPYBufCap returns the capacity of f's read buffer.
func NPYBufCap(f *NPYFile) int { return cap(f.buf) }

// NPYBufBytes is the bound on an NPYFile's read buffer.
const NPYBufBytes = npyBufBytes
