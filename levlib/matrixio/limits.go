package matrixio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxCols is the largest number of columns D that levstudy reads from a features file (and that the
// leverage engine accepts): the engine keeps a few D×D float64 matrices (the Gram matrix and its
// factors, 8·D² bytes each: 2 GiB at D = 16384) in memory, whatever N is.
const MaxCols = 16384

// Line length limits of the CSV readers, checked while reading so that a file without line breaks (a
// binary file, /dev/zero, one 200 MB line) fails after reading at most this many bytes instead of
// buffering it all: a matrix row of MaxCols numbers of up to 64 characters each (a float64 needs at
// most 24), and a leverage CSV row (index, split, label, score: under 60 bytes).
const (
	maxMatrixLine   = MaxCols*64 + 4096
	maxLeverageLine = 4096
)

// ErrLineTooLong is wrapped by the error for a CSV line longer than the reader's limit (in bytes or
// fields).
var ErrLineTooLong = errors.New("line too long")

// lineLimitReader passes r's bytes through until a line (bytes since the last '\n') exceeds limit bytes
// or holds more than maxCommas commas (0: no limit); then it returns an error wrapping ErrLineTooLong
// that names the line (counted from 1). A CSV parser behind it then never buffers more than one line
// of limit bytes and maxCommas+1 fields, however long the line in the file.
type lineLimitReader struct {
	r         io.Reader
	limit     int
	maxCommas int
	cur       int // bytes of the current line so far
	commas    int // commas of the current line so far
	line      int // lines completed
	err       error
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for off := 0; off < n; {
		i := bytes.IndexByte(b[off:], '\n')
		end := n
		if i >= 0 {
			end = off + i
		}
		if l.cur+end-off > l.limit {
			l.err = fmt.Errorf("line %d is longer than %d bytes: %w", l.line+1, l.limit, ErrLineTooLong)
			return off + l.limit - l.cur, l.err
		}
		if l.maxCommas > 0 {
			if l.commas += bytes.Count(b[off:end], []byte{','}); l.commas > l.maxCommas {
				l.err = fmt.Errorf("line %d has more than %d fields: %w", l.line+1, l.maxCommas+1, ErrLineTooLong)
				return off, l.err
			}
		}
		if i < 0 {
			l.cur += end - off
			break
		}
		l.cur, l.commas, l.line = 0, 0, l.line+1
		off = end + 1
	}
	return n, err
}
