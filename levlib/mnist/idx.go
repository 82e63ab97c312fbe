package mnist

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// IDX is a parsed IDX array of unsigned bytes (the MNIST file format of LeCun et al.,
// http://yann.lecun.com/exdb/mnist/): a big-endian magic number 0x0000 0x08 ndim, ndim big-endian
// uint32 dimensions, then prod(Dims) bytes in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

// Errors returned by ParseIDX, wrapped with details.
var (
	ErrIDXMagic     = errors.New("bad IDX magic number")
	ErrIDXTruncated = errors.New("truncated IDX file")
	ErrIDXTrailing  = errors.New("trailing bytes after IDX data")
)

// maxIDXElems bounds the size a header may announce, so that a corrupt header cannot make ParseIDX
// allocate or index beyond reason (MNIST's largest file holds 47,040,000 bytes).
const maxIDXElems = 1 << 31

// ParseIDX parses an uncompressed IDX array of type unsigned byte (type code 0x08). It returns
// ErrIDXMagic for another magic number, ErrIDXTruncated when the data is shorter than the header
// says and ErrIDXTrailing when it is longer. The returned Data aliases b.
func ParseIDX(b []byte) (*IDX, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %d bytes, need at least 4 for the magic number", ErrIDXTruncated, len(b))
	}
	if b[0] != 0 || b[1] != 0 || b[2] != 0x08 {
		return nil, fmt.Errorf("%w %#08x: want 0x000008NN (unsigned byte data)", ErrIDXMagic, binary.BigEndian.Uint32(b))
	}
	ndim := int(b[3])
	if ndim == 0 {
		return nil, fmt.Errorf("%w %#08x: zero dimensions", ErrIDXMagic, binary.BigEndian.Uint32(b))
	}
	head := 4 + 4*ndim
	if len(b) < head {
		return nil, fmt.Errorf("%w: header needs %d bytes for %d dimensions, have %d", ErrIDXTruncated, head, ndim, len(b))
	}
	dims := make([]int, ndim)
	n := 1
	for i := range dims {
		d := int(binary.BigEndian.Uint32(b[4+4*i:]))
		dims[i] = d
		if d != 0 && n > maxIDXElems/d {
			return nil, fmt.Errorf("%w: dimensions %v announce more than %d bytes", ErrIDXTruncated, dims[:i+1], maxIDXElems)
		}
		n *= d
	}
	switch body := len(b) - head; {
	case body < n:
		return nil, fmt.Errorf("%w: dimensions %v need %d data bytes, have %d", ErrIDXTruncated, dims, n, body)
	case body > n:
		return nil, fmt.Errorf("%w: dimensions %v need %d data bytes, have %d", ErrIDXTrailing, dims, n, body)
	}
	return &IDX{Dims: dims, Data: b[head:]}, nil
}
