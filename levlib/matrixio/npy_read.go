package matrixio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/levstudy/levstudy/internal/fileio"
)

// NPYFile is a 2-D NumPy .npy file of float32 or float64 values, open for reading rows on demand: a
// RowSource that never holds more than one bounded buffer (1 MiB) of the file in memory, however
// large the file. Open one with OpenNPY; the zero value is not usable. An NPYFile is not safe for
// concurrent use.
//
// Accepted files: format version 1.0, 2.0 or 3.0; dtype float32 or float64 in any spelling np.load
// accepts ('<f8', 'f8', '|f8', '=f8', '>f8', 'd', 'float64', 'double', 'float', and the same for
// float32: '<f4', 'f4', 'f', 'float32', 'single', …), little-endian unless it says '>' (big-endian,
// byte-swapped on reading; '=' and '|' are read as little-endian, as NumPy does on a little-endian
// machine); fortran_order False (C order); a 2-D shape (N, D) with N, D ≥ 1; exactly N·D values after
// the header. This is what np.save(path, X) writes for a C-contiguous float32 or float64 N×D array X.
// The file must be a regular file (a named pipe or a device is refused before it is opened).
type NPYFile struct {
	path     string
	f        *os.File
	rows     int
	cols     int
	dtype    string // "float32" or "float64"
	itemSize int    // 4 or 8
	order    binary.ByteOrder
	dataOff  int64  // offset of the first value
	buf      []byte // reused by ReadRows; at most npyBufBytes
}

var _ RowSource = (*NPYFile)(nil)

// npyBufBytes bounds NPYFile's read buffer: ReadRows reads the requested rows in pieces of at most
// this many bytes.
const npyBufBytes = 1 << 20

// npyMaxHeader bounds the header length OpenNPY accepts (NumPy itself refuses headers over 10,000
// bytes by default; a 2-D header is under 200).
const npyMaxHeader = 1 << 20

// OpenNPY opens a .npy file for reading with ReadRows, reading and checking only its header and size.
// The caller must Close it.
//
// Errors name the file and what is wrong: not a regular file (fileio.ErrNotRegular), not a .npy file
// (bad magic), an unknown format version, a malformed header, a dtype other than float32 or float64
// (integer, float16, complex, structured …), fortran_order True, a shape that is not 2-D or has a zero
// dimension, or a file size that does not match the shape (truncated, or trailing bytes after the
// data).
func OpenNPY(path string) (*NPYFile, error) {
	f, st, err := fileio.OpenInput(path)
	if err != nil {
		return nil, err
	}
	h, err := parseNPY(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &NPYFile{path: path, f: f, rows: h.rows, cols: h.cols, dtype: h.dtype, itemSize: h.itemSize,
		order: h.order, dataOff: h.dataOff}, nil
}

// ReadNPY reads a whole .npy file (the files OpenNPY accepts) into a float64 Matrix. It is meant for
// files that fit in memory; for larger ones use OpenNPY and ReadRows. Errors are OpenNPY's and
// ReadRows's.
func ReadNPY(path string) (*Matrix, error) {
	f, err := OpenNPY(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := NewMatrix(f.Dims())
	if err := f.ReadRows(m.Data, 0, m.Rows); err != nil {
		return nil, err
	}
	return m, f.Close()
}

// Dims returns the number of rows N and columns D of the file's (N, D) shape.
func (n *NPYFile) Dims() (rows, cols int) { return n.rows, n.cols }

// DType returns the file's element type: "float32" or "float64" (whatever its byte order).
func (n *NPYFile) DType() string { return n.dtype }

// ReadRows copies rows [lo, hi) into dst[:(hi−lo)·D] as float64 (float32 values converted exactly),
// reading them from the file with ReadAt; NaN and ±Inf are passed through. Rows may be read in any
// order. Errors name the file: a range outside [0, N], dst shorter than (hi−lo)·D, a read error (a file
// that shrank since OpenNPY reports io.ErrUnexpectedEOF), or a call after Close.
func (n *NPYFile) ReadRows(dst []float64, lo, hi int) error {
	if n.f == nil {
		return fmt.Errorf("%s: ReadRows after Close", n.path)
	}
	if lo < 0 || hi > n.rows || lo > hi {
		return fmt.Errorf("%s: rows [%d, %d) outside the file's %d rows", n.path, lo, hi, n.rows)
	}
	if need := (hi - lo) * n.cols; len(dst) < need {
		return fmt.Errorf("%s: rows [%d, %d) need %d values, dst holds %d", n.path, lo, hi, need, len(dst))
	}
	// Read values [lo·D, hi·D) in pieces of at most npyBufBytes, ignoring row boundaries.
	per := npyBufBytes / n.itemSize
	for k, end := lo*n.cols, hi*n.cols; k < end; {
		cnt := min(end-k, per)
		nb := cnt * n.itemSize
		if cap(n.buf) < nb {
			n.buf = make([]byte, nb)
		}
		b := n.buf[:nb]
		if _, err := n.f.ReadAt(b, n.dataOff+int64(k)*int64(n.itemSize)); err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("file shorter than when opened: %w", io.ErrUnexpectedEOF)
			}
			return fmt.Errorf("%s: reading row %d: %w", n.path, k/n.cols, err)
		}
		out := dst[k-lo*n.cols : k-lo*n.cols+cnt]
		if n.itemSize == 4 {
			for i := range out {
				out[i] = float64(math.Float32frombits(n.order.Uint32(b[4*i:])))
			}
		} else {
			for i := range out {
				out[i] = math.Float64frombits(n.order.Uint64(b[8*i:]))
			}
		}
		k += cnt
	}
	return nil
}

// Close closes the file. Calling it again returns nil; ReadRows after Close is an error.
func (n *NPYFile) Close() error {
	if n.f == nil {
		return nil
	}
	err := n.f.Close()
	n.f, n.buf = nil, nil
	return err
}

// npyLayout is what parseNPY learns from a .npy file's preamble and header.
type npyLayout struct {
	rows     int
	cols     int
	dtype    string
	itemSize int
	order    binary.ByteOrder
	dataOff  int64
}

// parseNPY reads and checks the preamble and header of a .npy file of size bytes, and checks that the
// size matches the shape. Errors do not name the file; the caller adds it.
func parseNPY(r io.ReaderAt, size int64) (npyLayout, error) {
	var l npyLayout
	var pre [12]byte
	n, err := r.ReadAt(pre[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return l, err
	}
	if n < 6 || string(pre[:6]) != "\x93NUMPY" {
		if n == 0 {
			return l, errors.New("empty file, not a NumPy .npy file")
		}
		if n >= 4 && string(pre[:4]) == "PK\x03\x04" {
			return l, errors.New("not a NumPy .npy file but a zip archive (an .npz? save one array with np.save(path, X))")
		}
		return l, errors.New(`not a NumPy .npy file (it does not start with "\x93NUMPY")`)
	}
	if n < 8 {
		return l, fmt.Errorf("truncated header: the file has %d bytes", size)
	}
	var hlen, start int64
	switch [2]byte{pre[6], pre[7]} {
	case [2]byte{1, 0}:
		if n < 10 {
			return l, fmt.Errorf("truncated header: the file has %d bytes", size)
		}
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:])), 10
	case [2]byte{2, 0}, [2]byte{3, 0}:
		if n < 12 {
			return l, fmt.Errorf("truncated header: the file has %d bytes", size)
		}
		hlen, start = int64(binary.LittleEndian.Uint32(pre[8:])), 12
	default:
		return l, fmt.Errorf("NPY format version %d.%d is not supported (want 1.0, 2.0 or 3.0)", pre[6], pre[7])
	}
	if hlen > npyMaxHeader {
		return l, fmt.Errorf("header length %d is implausible (over %d bytes)", hlen, npyMaxHeader)
	}
	if start+hlen > size {
		return l, fmt.Errorf("truncated header: the header needs %d bytes, the file has %d", start+hlen, size)
	}
	hb := make([]byte, hlen)
	if hlen > 0 {
		if _, err := r.ReadAt(hb, start); err != nil {
			return l, fmt.Errorf("reading the header: %w", err)
		}
	}
	l.dataOff = start + hlen
	h, err := parseNPYHeaderDict(string(hb))
	if err != nil {
		return l, err
	}
	if l.dtype, l.itemSize, l.order = npyDType(h.descr); l.dtype == "" {
		return l, fmt.Errorf("dtype %s is not supported (want float32 '<f4' or float64 '<f8'; convert with X.astype(np.float64))",
			pyQuote(h.descr))
	}
	if len(h.shape) != 2 {
		hint := ""
		switch {
		case len(h.shape) == 1:
			hint = "; for one feature per sample save X.reshape(-1, 1)"
		case len(h.shape) > 2:
			hint = "; flatten each sample with X.reshape(len(X), -1)"
		}
		return l, fmt.Errorf("shape %s is %d-D, want a 2-D (rows, columns) array%s", pyTuple(h.shape), len(h.shape), hint)
	}
	if h.shape[0] < 1 || h.shape[1] < 1 {
		return l, fmt.Errorf("shape %s has no values (want at least 1 row and 1 column)", pyTuple(h.shape))
	}
	if h.fortran {
		return l, errors.New("fortran_order is True (column-major data); save a C-order array: np.save(path, np.ascontiguousarray(X))")
	}
	rows, cols := h.shape[0], h.shape[1]
	if rows > math.MaxInt64/cols/int64(l.itemSize) || rows*cols > math.MaxInt || l.dataOff+rows*cols*int64(l.itemSize) < 0 {
		return l, fmt.Errorf("shape %s is too large", pyTuple(h.shape))
	}
	l.rows, l.cols = int(rows), int(cols)
	need, have := rows*cols*int64(l.itemSize), size-l.dataOff
	what := fmt.Sprintf("%d rows × %d columns of %s need %d bytes after the header, the file has %d", rows, cols, l.dtype, need, have)
	if have < need {
		return l, fmt.Errorf("truncated: %s", what)
	}
	if have > need {
		return l, fmt.Errorf("%d bytes of trailing data: %s", have-need, what)
	}
	return l, nil
}

// npyDType returns the element type, size and byte order of a .npy descr string that np.load reads
// as float32 or float64, or "" for any other: an optional byte order ('<' little-endian, '>'
// big-endian, '=' native and '|' not applicable, both read as little-endian) and a type code ('f8',
// 'd', 'f4', 'f'), or one of NumPy's names without a byte order ('float64', 'double', 'float',
// 'float_', 'float32', 'single').
func npyDType(descr string) (dtype string, size int, order binary.ByteOrder) {
	order = binary.LittleEndian
	switch descr {
	case "float64", "double", "float", "float_":
		return "float64", 8, order
	case "float32", "single":
		return "float32", 4, order
	}
	code := descr
	if len(descr) > 0 && strings.IndexByte("<>=|", descr[0]) >= 0 {
		code = descr[1:]
		if descr[0] == '>' {
			order = binary.BigEndian
		}
	}
	switch code {
	case "f8", "d":
		return "float64", 8, order
	case "f4", "f":
		return "float32", 4, order
	}
	return "", 0, nil
}

// npyHeaderDict is the content of a .npy header.
type npyHeaderDict struct {
	descr   string
	fortran bool
	shape   []int64
}

// parseNPYHeaderDict parses a .npy header: a Python dict literal with exactly the keys 'descr' (a
// string; a list, for a structured dtype, is reported as unsupported), 'fortran_order' (True or False)
// and 'shape' (a tuple of non-negative ints), in any order, with any spacing, an optional trailing
// comma, and trailing spaces or newlines (the padding). Python 2's long suffix (3L) is accepted.
func parseNPYHeaderDict(s string) (npyHeaderDict, error) {
	var h npyHeaderDict
	p := &pyParser{s: s}
	v, err := p.value(0)
	if err == nil {
		p.space()
		if p.i < len(p.s) {
			err = p.errorf("unexpected %q after the dict", p.rest())
		}
	}
	if err != nil {
		return h, fmt.Errorf("malformed header %s: %w", abbrevQuote(s), err)
	}
	d, ok := v.(pyDict)
	if !ok {
		return h, fmt.Errorf("malformed header %s: not a dict", abbrevQuote(s))
	}
	seen := map[string]bool{}
	for _, kv := range d {
		key, ok := kv.key.(string)
		if !ok {
			return h, fmt.Errorf("malformed header %s: key %s is not a string", abbrevQuote(s), pyRepr(kv.key))
		}
		if seen[key] {
			return h, fmt.Errorf("malformed header %s: key '%s' appears twice", abbrevQuote(s), key)
		}
		seen[key] = true
		switch key {
		case "descr":
			switch x := kv.val.(type) {
			case string:
				h.descr = x
			case pyList:
				return h, fmt.Errorf("dtype %s is structured (a record array), not supported (want float32 '<f4' or float64 '<f8')",
					abbrevQuote(pyRepr(x)))
			default:
				return h, fmt.Errorf("malformed header: 'descr' is %s, not a dtype string", pyRepr(x))
			}
		case "fortran_order":
			b, ok := kv.val.(bool)
			if !ok {
				return h, fmt.Errorf("malformed header: 'fortran_order' is %s, not True or False", pyRepr(kv.val))
			}
			h.fortran = b
		case "shape":
			t, ok := kv.val.(pyTupleV)
			if !ok {
				return h, fmt.Errorf("malformed header: 'shape' is %s, not a tuple", pyRepr(kv.val))
			}
			h.shape = make([]int64, len(t))
			for i, x := range t {
				k, ok := x.(int64)
				if !ok || k < 0 {
					return h, fmt.Errorf("malformed header: 'shape' %s is not a tuple of non-negative ints", pyRepr(t))
				}
				h.shape[i] = k
			}
		default:
			return h, fmt.Errorf("malformed header %s: unexpected key %s (want 'descr', 'fortran_order', 'shape')",
				abbrevQuote(s), pyQuote(key))
		}
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if !seen[key] {
			return h, fmt.Errorf("malformed header %s: no '%s' key", abbrevQuote(s), key)
		}
	}
	return h, nil
}

// Python literal values as parsed by pyParser: string, int64, bool, nil (None), pyTupleV, pyList,
// pyDict.
type (
	pyTupleV []any
	pyList   []any
	pyDict   []pyKV
	pyKV     struct{ key, val any }
)

// pyParser parses the subset of Python literals that .npy headers use.
type pyParser struct {
	s             string
	i             int
	trailingComma bool // whether the sequence seq last parsed ended in a comma
}

const pyMaxDepth = 32

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: "+format, append([]any{p.i}, args...)...)
}

func (p *pyParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n\f\v", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value(depth int) (any, error) {
	if depth > pyMaxDepth {
		return nil, p.errorf("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		var d pyDict
		err := p.seq('}', depth, func() error {
			k, err := p.value(depth + 1)
			if err != nil {
				return err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return p.errorf("want ':' after a dict key")
			}
			p.i++
			v, err := p.value(depth + 1)
			d = append(d, pyKV{k, v})
			return err
		})
		return d, err
	case c == '(':
		var t pyTupleV
		err := p.seq(')', depth, func() error {
			v, err := p.value(depth + 1)
			t = append(t, v)
			return err
		})
		if err == nil && len(t) == 1 && !p.trailingComma {
			return t[0], nil // (x) is x, not a tuple
		}
		return t, err
	case c == '[':
		var l pyList
		err := p.seq(']', depth, func() error {
			v, err := p.value(depth + 1)
			l = append(l, v)
			return err
		})
		return l, err
	case c == '\'' || c == '"':
		end := strings.IndexAny(p.s[p.i+1:], string(c)+"\\\n")
		if end < 0 || p.s[p.i+1+end] != c {
			return nil, p.errorf("unterminated or escaped string")
		}
		v := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return v, nil
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && '0' <= p.s[j] && p.s[j] <= '9' {
			j++
		}
		k, err := strconv.ParseInt(strings.TrimPrefix(p.s[p.i:j], "+"), 10, 64)
		if err != nil {
			return nil, p.errorf("bad int %q", p.s[p.i:j])
		}
		if j < len(p.s) && (p.s[j] == 'L' || p.s[j] == 'l') { // Python 2 long
			j++
		}
		p.i = j
		return k, nil
	default:
		j := p.i
		for j < len(p.s) && ('a' <= p.s[j] && p.s[j] <= 'z' || 'A' <= p.s[j] && p.s[j] <= 'Z') {
			j++
		}
		switch p.s[p.i:j] {
		case "True":
			p.i = j
			return true, nil
		case "False":
			p.i = j
			return false, nil
		case "None":
			p.i = j
			return nil, nil
		}
		return nil, p.errorf("unexpected %q", p.rest())
	}
}

// seq parses the items of a bracketed sequence that starts at p.i, separated by commas, with an optional
// trailing comma, up to the closing byte; it records in p.trailingComma whether the last item had one.
func (p *pyParser) seq(closing byte, depth int, item func() error) error {
	p.i++ // the opening bracket
	p.trailingComma = false
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == closing {
			p.i++
			return nil
		}
		if err := item(); err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.s) {
			return p.errorf("want %q", closing)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.trailingComma = true
		case closing:
			p.i++
			p.trailingComma = false
			return nil
		default:
			return p.errorf("want ',' or %q, found %q", closing, p.rest())
		}
	}
}

// pyQuote writes s as Python would write a simple string, 'like this', or in Go's quoted form if it
// holds quotes, backslashes or unprintable bytes.
func pyQuote(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '\'' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return "'" + s + "'"
}

// pyTuple writes a shape as Python writes a tuple: (3, 2), (5,), ().
func pyTuple(shape []int64) string {
	t := make(pyTupleV, len(shape))
	for i, k := range shape {
		t[i] = k
	}
	return pyRepr(t)
}

// pyRepr writes a parsed Python literal back in Python syntax, cut at 60 bytes.
func pyRepr(v any) string {
	var b strings.Builder
	writePy(&b, v)
	return abbrev(b.String(), 60)
}

func writePy(b *strings.Builder, v any) {
	if b.Len() > 60 {
		return
	}
	items := func(open, close string, xs []any) {
		b.WriteString(open)
		for i, x := range xs {
			if i > 0 {
				b.WriteString(", ")
			}
			writePy(b, x)
		}
		if open == "(" && len(xs) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
	}
	switch x := v.(type) {
	case string:
		b.WriteString(pyQuote(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[x])
	case nil:
		b.WriteString("None")
	case pyTupleV:
		items("(", ")", x)
	case pyList:
		items("[", "]", x)
	case pyDict:
		b.WriteString("{")
		for i, kv := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePy(b, kv.key)
			b.WriteString(": ")
			writePy(b, kv.val)
		}
		b.WriteString("}")
	}
}

// abbrev cuts s to at most n bytes (at a UTF-8 boundary), marking the cut with "…".
func abbrev(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// abbrevQuote quotes a header for an error message, without its padding and cut at 80 bytes.
func abbrevQuote(s string) string {
	return strconv.Quote(abbrev(strings.TrimRight(s, " \t\r\n"), 80))
}
