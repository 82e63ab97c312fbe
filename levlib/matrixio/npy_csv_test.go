package matrixio_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/matrixio"
)

// readChunks reads src in passes of chunk rows and returns the values of the last pass, checking that
// every pass returned the same values.
func readChunks(t *testing.T, src matrixio.RowSource, chunk, passes int) []float64 {
	t.Helper()
	n, d := src.Dims()
	var first []float64
	buf := make([]float64, chunk*d)
	for p := range passes {
		all := make([]float64, 0, n*d)
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			if err := src.ReadRows(buf, lo, hi); err != nil {
				t.Fatalf("pass %d, rows [%d, %d): %v", p, lo, hi, err)
			}
			all = append(all, buf[:(hi-lo)*d]...)
		}
		if first == nil {
			first = all
		} else if !sameBits(first, all) {
			t.Fatalf("pass %d differs from pass 0", p)
		}
	}
	return first
}

// sameBits reports whether a and b hold bit-identical values.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// specialValues is a matrix of awkward values: signed zeros, subnormals, extremes, NaN and ±Inf.
func specialValues(rows, cols int) *matrixio.Matrix {
	m := matrixio.NewMatrix(rows, cols)
	specials := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-300, 5e-324, 1e-40, math.MaxFloat64,
		-math.SmallestNonzeroFloat32, math.MaxFloat32, math.NaN(), math.Inf(1), math.Inf(-1), 2.0 / 3}
	for i := range m.Data {
		if i < len(specials) {
			m.Data[i] = specials[i]
		} else {
			m.Data[i] = math.Sin(float64(i)) * math.Pow(10, float64(i%13-6))
		}
	}
	return m
}

func TestNPYRoundTrip(t *testing.T) {
	m := specialValues(37, 5)
	dir := t.TempDir()
	t.Run("float32", func(t *testing.T) {
		path := filepath.Join(dir, "f4.npy")
		if err := matrixio.WriteNPY(path, m); err != nil {
			t.Fatal(err)
		}
		f, err := matrixio.OpenNPY(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if r, c := f.Dims(); r != 37 || c != 5 || f.DType() != "float32" {
			t.Fatalf("Dims %d×%d, DType %s; want 37×5 float32", r, c, f.DType())
		}
		got := readChunks(t, f, 37, 1)
		for i, v := range m.Data {
			if math.Float32bits(float32(got[i])) != math.Float32bits(float32(v)) || math.Float64bits(got[i]) != math.Float64bits(float64(float32(got[i]))) {
				t.Errorf("value %d: wrote %v, read %v (float32 %v)", i, v, got[i], float32(v))
			}
		}
	})
	t.Run("float64", func(t *testing.T) {
		path := filepath.Join(dir, "f8.npy")
		if err := matrixio.WriteNPYAs(path, m, "float64"); err != nil {
			t.Fatal(err)
		}
		got, err := matrixio.ReadNPY(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rows != 37 || got.Cols != 5 || !sameBits(got.Data, m.Data) {
			t.Errorf("float64 round trip is not exact")
		}
	})
	t.Run("chunked", func(t *testing.T) {
		path := filepath.Join(dir, "f8.npy")
		whole, err := matrixio.ReadNPY(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := matrixio.OpenNPY(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, chunk := range []int{1, 4, 10, 36} {
			if got := readChunks(t, f, chunk, 3); !sameBits(got, whole.Data) {
				t.Errorf("chunks of %d rows differ from the whole read", chunk)
			}
		}
		// Rows may also be read out of order.
		row := make([]float64, 5)
		for _, i := range []int{30, 2, 36, 0} {
			if err := f.ReadRows(row, i, i+1); err != nil || !sameBits(row, whole.Row(i)) {
				t.Errorf("row %d alone: %v, %v; want %v", i, row, err, whole.Row(i))
			}
		}
	})
	t.Run("bad dtype", func(t *testing.T) {
		err := matrixio.WriteNPYAs(filepath.Join(dir, "i4.npy"), m, "int32")
		if err == nil || !strings.Contains(err.Error(), `dtype "int32" is not supported`) {
			t.Errorf("WriteNPYAs int32: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "i4.npy")); !os.IsNotExist(err) {
			t.Errorf("failed write left a file: %v", err)
		}
		if err := matrixio.EncodeNPY(&bytes.Buffer{}, &matrixio.Matrix{Rows: 2, Cols: 2, Data: []float64{1}}, "float64"); err == nil {
			t.Error("malformed matrix: no error")
		}
	})
}

// TestNPYHeaderLayout checks what EncodeNPY writes before the data: WriteNPY's float32 header is
// byte-for-byte what it was before EncodeNPY existed, and every header is padded with spaces to a
// multiple of 64 bytes and ends in '\n'.
func TestNPYHeaderLayout(t *testing.T) {
	var buf bytes.Buffer
	m := &matrixio.Matrix{Rows: 2, Cols: 3, Data: []float64{1, 2, 3, 4, 5, 6}}
	if err := matrixio.EncodeNPY(&buf, m, "float32"); err != nil {
		t.Fatal(err)
	}
	header := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	want := "\x93NUMPY\x01\x00\x76\x00" + header + strings.Repeat(" ", 128-10-len(header)-1) + "\n"
	if got := buf.String(); got[:128] != want || len(got) != 128+6*4 {
		t.Errorf("float32 2×3 file:\n%q\nwant the header\n%q", got, want)
	}
	for _, dtype := range []string{"<f4", "<f8"} {
		for _, rows := range []int{0, 1, 9, 10, 99, 100, 12345, 1e6, 1e9, 1e15, math.MaxInt64} {
			for _, cols := range []int{1, 10, 784, 99999, 1e8} {
				b := matrixio.NPYPreamble(dtype, rows, cols)
				hlen := int(binary.LittleEndian.Uint16(b[8:]))
				if len(b)%64 != 0 || b[len(b)-1] != '\n' || hlen != len(b)-10 || !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
					t.Errorf("%s (%d, %d): header %q", dtype, rows, cols, b)
				}
				// Without the data, the parser reports the shape it read back.
				want := fmt.Sprintf("truncated: %d rows × %d columns", rows, cols)
				if rows == 0 {
					want = fmt.Sprintf("shape (0, %d) has no values", cols)
				} else if rows > math.MaxInt64/cols/8 {
					want = "is too large"
				}
				if _, _, _, _, err := matrixio.ParseNPYBytes(b); err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s (%d, %d): %v, want …%s…", dtype, rows, cols, err, want)
				}
			}
		}
	}
}

// The files in testdata/npy hold the bytes NumPy 1.x writes for
//
//	np.save("f8_v1_3x2.npy", np.array([[0.5, -1.25], [3.0, 1e-300], [-0.0, 6.02214076e23]]))
//	np.lib.format.write_array(open("f4_v2_2x3.npy", "wb"),
//	    np.array([[1, -2.5, np.nan], [np.inf, -np.inf, 1e-40]], dtype=np.float32), version=(2, 0))
//
// NumPy was not installed where they were made, so they were written by a stdlib-only Python script
// that follows numpy/lib/format.py (_write_array_header and _wrap_header): the header is
// "{'descr': %r, 'fortran_order': False, 'shape': %r, }" (keys sorted, repr values), then
// padlen = 64 - ((8 + len(length field) + len(header) + 1) % 64) spaces and '\n', after the magic,
// the version and the little-endian header length ('<H' for 1.0, '<I' for 2.0), then the values
// packed with struct '<d' / '<f'. NumPy ≥ 1.24 also adds 21 − len(str(shape[0])) spaces of room for
// growth before that padding, which gives the same bytes for these shapes (it only moves spaces from
// the padding). The test checks the headers byte for byte below.
func TestNPYNumPyFiles(t *testing.T) {
	pad := func(prefix, header string) string {
		n := len(prefix) + len(header) + 1
		return prefix + header + strings.Repeat(" ", 64-n%64) + "\n"
	}
	for _, tc := range []struct {
		file, header, dtype string
		rows, cols          int
		want                []float64
	}{
		{"f8_v1_3x2.npy", pad("\x93NUMPY\x01\x00\x76\x00", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"),
			"float64", 3, 2, []float64{0.5, -1.25, 3, 1e-300, math.Copysign(0, -1), 6.02214076e23}},
		{"f4_v2_2x3.npy", pad("\x93NUMPY\x02\x00\x74\x00\x00\x00", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"),
			"float32", 2, 3, []float64{1, -2.5, float64(math.Float32frombits(0x7fc00000)), math.Inf(1), math.Inf(-1), float64(float32(1e-40))}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "npy", tc.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.header) != 128 || string(raw[:128]) != tc.header {
				t.Fatalf("header %q, want NumPy's %q", raw[:min(128, len(raw))], tc.header)
			}
			f, err := matrixio.OpenNPY(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if r, c := f.Dims(); r != tc.rows || c != tc.cols || f.DType() != tc.dtype {
				t.Fatalf("Dims %d×%d %s, want %d×%d %s", r, c, f.DType(), tc.rows, tc.cols, tc.dtype)
			}
			if got := readChunks(t, f, 1, 2); !sameBits(got, tc.want) {
				t.Errorf("values %v, want %v", got, tc.want)
			}
			if tc.dtype == "float64" {
				// Our writer produces NumPy's bytes for this file.
				var buf bytes.Buffer
				if err := matrixio.EncodeNPY(&buf, &matrixio.Matrix{Rows: 3, Cols: 2, Data: tc.want}, "float64"); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), raw) {
					t.Errorf("EncodeNPY wrote\n%q\nNumPy wrote\n%q", buf.Bytes(), raw)
				}
			}
		})
	}
}

// npyFile returns a .npy file: the magic, version major.0, the header length (2 bytes for 1.0, else 4),
// header padded as NumPy pads it, and data.
func npyFile(major byte, header string, data []byte) []byte {
	prefix := 10
	if major != 1 {
		prefix = 12
	}
	header += strings.Repeat(" ", 64-(prefix+len(header)+1)%64) + "\n"
	b := append([]byte("\x93NUMPY"), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), data...)
}

// f8Data returns the little-endian float64 bytes of 0, 1, …, n−1.
func f8Data(n int) []byte {
	var b []byte
	for i := range n {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(i)))
	}
	return b
}

// TestNPYHeaderVariants checks headers that NumPy's reader accepts but that differ from what NumPy
// writes today: other versions, spacing, quoting, key order, commas, alignment, Python 2 longs.
func TestNPYHeaderVariants(t *testing.T) {
	dir := t.TempDir()
	data := f8Data(6)
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"v1.0", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data)},
		{"v2.0", npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data)},
		{"v3.0", npyFile(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data)},
		{"numpy 2 growth room", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"+strings.Repeat(" ", 20), data)},
		{"key order, double quotes, no spaces", npyFile(1, `{"shape":(3,2),"fortran_order":False,"descr":"<f8"}`, data)},
		{"no trailing commas", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2)}", data)},
		{"tuple trailing comma", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2,), }", data)},
		{"python 2 longs", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 2L), }", data)},
		{"tabs and newlines", npyFile(1, "{\t'descr' :\n'<f8' ,\n 'fortran_order' : False , 'shape' : ( 3 , 2 ) , }", data)},
		{"16-byte alignment, no newline", append(append([]byte("\x93NUMPY\x01\x00\x46\x00"), // 10 + 70 = 5·16
			"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"+strings.Repeat(" ", 70-59)...), data...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "variant.npy")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := matrixio.ReadNPY(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows != 3 || m.Cols != 2 || !sameBits(m.Data, []float64{0, 1, 2, 3, 4, 5}) {
				t.Errorf("read %d×%d %v", m.Rows, m.Cols, m.Data)
			}
		})
	}
}

// TestNPYDTypeSpellings checks that every spelling of float32 and float64 that np.load accepts (as
// numpy 1.24's np.dtype(descr) does) is read, with the right values: big-endian files written by
// np.save (testdata/npy/be_*.npy, from X.astype('>f8') and X.astype('>f4')) are byte-swapped.
func TestNPYDTypeSpellings(t *testing.T) {
	dir := t.TempDir()
	f4 := make([]byte, 0, 24)
	for i := range 6 {
		f4 = binary.LittleEndian.AppendUint32(f4, math.Float32bits(float32(i)))
	}
	for _, descr := range []string{"<f8", "f8", "|f8", "=f8", "d", "<d", "=d", "float64", "double", "float", "float_",
		"<f4", "f4", "|f4", "=f4", "f", "float32", "single"} {
		t.Run(descr, func(t *testing.T) {
			data := f8Data(6)
			if slices.Contains([]string{"<f4", "f4", "|f4", "=f4", "f", "float32", "single"}, descr) {
				data = f4
			}
			path := filepath.Join(dir, "x.npy")
			os.WriteFile(path, npyFile(1, fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (3, 2), }", descr), data), 0o644)
			m, err := matrixio.ReadNPY(path)
			if err != nil {
				t.Fatal(err)
			}
			if !sameBits(m.Data, []float64{0, 1, 2, 3, 4, 5}) {
				t.Errorf("read %v", m.Data)
			}
		})
	}
	for _, tc := range []struct {
		file  string
		rows  int
		dtype string
		want  []float64
	}{
		{"be_f8_3x2.npy", 3, "float64", []float64{-2, -0.5, 1, 2.5, 4, 5.5}},
		{"be_f4_2x3.npy", 2, "float32", []float64{-2.25, -1.25, -0.25, 0.75, 1.75, 2.75}},
	} {
		f, err := matrixio.OpenNPY(filepath.Join("testdata", "npy", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		n, d := f.Dims()
		got := make([]float64, n*d)
		if err := f.ReadRows(got, 0, n); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if n != tc.rows || f.DType() != tc.dtype || !sameBits(got, tc.want) {
			t.Errorf("%s: %d rows of %s, %v; want %d rows of %s, %v", tc.file, n, f.DType(), got, tc.rows, tc.dtype, tc.want)
		}
	}
}

func TestNPYErrors(t *testing.T) {
	dir := t.TempDir()
	hdr := func(descr, fortran, shape string) string {
		return fmt.Sprintf("{'descr': %s, 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape)
	}
	good := hdr("'<f8'", "False", "(3, 2)")
	for _, tc := range []struct {
		name string
		file []byte
		want string // the error is "<path>: " followed by a text containing want
	}{
		{"int32", npyFile(1, hdr("'<i4'", "False", "(3, 2)"), make([]byte, 24)),
			"dtype '<i4' is not supported (want float32 '<f4' or float64 '<f8'; convert with X.astype(np.float64))"},
		{"complex", npyFile(1, hdr("'<c16'", "False", "(3, 2)"), make([]byte, 96)), "dtype '<c16' is not supported"},
		{"name with a byte order", npyFile(1, hdr("'<float64'", "False", "(3, 2)"), f8Data(6)), "dtype '<float64' is not supported"},
		{"float128", npyFile(1, hdr("'f16'", "False", "(3, 2)"), make([]byte, 96)), "dtype 'f16' is not supported"},
		{"float16", npyFile(1, hdr("'<f2'", "False", "(3, 2)"), make([]byte, 12)), "dtype '<f2' is not supported"},
		{"structured", npyFile(1, hdr("[('x', '<f8'), ('y', '<f8')]", "False", "(3,)"), f8Data(6)), "is structured (a record array), not supported"},
		{"fortran order", npyFile(1, hdr("'<f8'", "True", "(3, 2)"), f8Data(6)), "fortran_order is True (column-major data); save a C-order array: np.save(path, np.ascontiguousarray(X))"},
		{"1-D", npyFile(1, hdr("'<f8'", "False", "(6,)"), f8Data(6)), "shape (6,) is 1-D, want a 2-D (rows, columns) array; for one feature per sample save X.reshape(-1, 1)"},
		{"3-D", npyFile(1, hdr("'<f8'", "False", "(3, 2, 1)"), f8Data(6)), "shape (3, 2, 1) is 3-D, want a 2-D (rows, columns) array; flatten"},
		{"0-D", npyFile(1, hdr("'<f8'", "False", "()"), f8Data(1)), "shape () is 0-D"},
		{"no rows", npyFile(1, hdr("'<f8'", "False", "(0, 2)"), nil), "shape (0, 2) has no values"},
		{"too large", npyFile(1, hdr("'<f8'", "False", "(9223372036854775807, 2)"), nil), "shape (9223372036854775807, 2) is too large"},
		{"negative", npyFile(1, hdr("'<f8'", "False", "(-3, 2)"), nil), "not a tuple of non-negative ints"},
		{"truncated", npyFile(1, good, f8Data(5)), "truncated: 3 rows × 2 columns of float64 need 48 bytes after the header, the file has 40"},
		{"truncated float32", npyFile(1, hdr("'<f4'", "False", "(3, 2)"), make([]byte, 23)), "truncated: 3 rows × 2 columns of float32 need 24 bytes after the header, the file has 23"},
		{"trailing bytes", npyFile(1, good, f8Data(7)), "8 bytes of trailing data: 3 rows × 2 columns of float64 need 48 bytes after the header, the file has 56"},
		{"empty file", nil, "empty file, not a NumPy .npy file"},
		{"bad magic", []byte("col1,col2\n1,2\n"), `not a NumPy .npy file (it does not start with "\x93NUMPY")`},
		{"npz", []byte("PK\x03\x04 a zip archive"), "not a NumPy .npy file but a zip archive (an .npz?"},
		{"magic only", []byte("\x93NUMPY\x01"), "truncated header"},
		{"version 4.0", npyFile(4, good, f8Data(6)), "NPY format version 4.0 is not supported (want 1.0, 2.0 or 3.0)"},
		{"header longer than the file", npyFile(1, good, f8Data(6))[:100], "truncated header: the header needs 128 bytes, the file has 100"},
		{"huge header length", append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), good...), "header length 2147483647 is implausible"},
		{"garbage header", npyFile(1, "hello, world", nil), `malformed header "hello, world"`},
		{"not a dict", npyFile(1, "[1, 2]", nil), "not a dict"},
		{"unterminated", npyFile(1, "{'descr': '<f8', 'shape': (3, 2", nil), "malformed header"},
		{"missing key", npyFile(1, "{'descr': '<f8', 'fortran_order': False}", f8Data(6)), "no 'shape' key"},
		{"extra key", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), 'foo': 1}", f8Data(6)), "unexpected key 'foo'"},
		{"duplicate key", npyFile(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3, 2)}", f8Data(6)), "key 'descr' appears twice"},
		{"fortran_order not bool", npyFile(1, hdr("'<f8'", "'no'", "(3, 2)"), f8Data(6)), "'fortran_order' is 'no', not True or False"},
		{"shape not a tuple", npyFile(1, hdr("'<f8'", "False", "[3, 2]"), f8Data(6)), "'shape' is [3, 2], not a tuple"},
		{"float shape", npyFile(1, hdr("'<f8'", "False", "(3.0, 2)"), f8Data(6)), "malformed header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".npy")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := matrixio.OpenNPY(path)
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\nwant %q: …%s…", msg, path, tc.want)
			}
			if _, err := matrixio.ReadNPY(path); err == nil {
				t.Error("ReadNPY: no error")
			}
		})
	}
	if _, err := matrixio.OpenNPY(filepath.Join(dir, "missing.npy")); err == nil || !strings.Contains(err.Error(), "missing.npy") {
		t.Errorf("missing file: %v", err)
	}
}

// TestRowSourceMisuse checks both readers' errors for bad ReadRows calls: a range outside the rows, a
// short dst, a call after Close. Each names the file.
func TestRowSourceMisuse(t *testing.T) {
	dir := t.TempDir()
	npyPath, csvPath := filepath.Join(dir, "m.npy"), filepath.Join(dir, "m.csv")
	if err := matrixio.WriteNPY(npyPath, specialValues(4, 2)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvPath, []byte("a,b\n1,2\n3,4\n5,6\n7,8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nf, err := matrixio.OpenNPY(npyPath)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := matrixio.OpenCSV(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []struct {
		path string
		rs   interface {
			matrixio.RowSource
			Close() error
		}
	}{{npyPath, nf}, {csvPath, cf}} {
		t.Run(filepath.Ext(src.path), func(t *testing.T) {
			dst := make([]float64, 8)
			for _, tc := range []struct {
				lo, hi int
				dst    []float64
				want   string
			}{
				{-1, 2, dst, "rows [-1, 2) outside the file's 4 rows"},
				{3, 5, dst, "rows [3, 5) outside the file's 4 rows"},
				{3, 2, dst, "rows [3, 2) outside the file's 4 rows"},
				{0, 3, dst[:5], "rows [0, 3) need 6 values, dst holds 5"},
			} {
				err := src.rs.ReadRows(tc.dst, tc.lo, tc.hi)
				if err == nil || err.Error() != src.path+": "+tc.want {
					t.Errorf("ReadRows(%d, %d): %v, want %s", tc.lo, tc.hi, err, tc.want)
				}
			}
			if err := src.rs.ReadRows(dst, 2, 2); err != nil {
				t.Errorf("empty range: %v", err)
			}
			if err := src.rs.Close(); err != nil {
				t.Fatal(err)
			}
			if err := src.rs.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := src.rs.ReadRows(dst, 0, 1); err == nil || err.Error() != src.path+": ReadRows after Close" {
				t.Errorf("ReadRows after Close: %v", err)
			}
		})
	}
}

// TestNPYReaderMemory checks that an NPYFile's memory does not grow with the file: reading a
// 200,000×8 float64 file (12.8 MB) in chunks of 1,000 rows allocates nothing after the first chunk,
// its buffer stays the size of one chunk, and reading the whole file at once uses a buffer of at most
// NPYBufBytes (1 MiB).
func TestNPYReaderMemory(t *testing.T) {
	const n, d, chunk = 200_000, 8, 1000
	m := matrixio.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = float64(i%9973) - 0.25*float64(i%7)
	}
	path := filepath.Join(t.TempDir(), "big.npy")
	if err := matrixio.WriteNPYAs(path, m, "float64"); err != nil {
		t.Fatal(err)
	}
	f, err := matrixio.OpenNPY(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dst := make([]float64, chunk*d)
	var readErr error
	pass := func() {
		for lo := 0; lo < n && readErr == nil; lo += chunk {
			readErr = f.ReadRows(dst, lo, lo+chunk)
		}
	}
	if allocs := testing.AllocsPerRun(2, pass); allocs != 0 || readErr != nil {
		t.Errorf("a pass over %d rows in chunks of %d: %v allocations, error %v; want 0, nil", n, chunk, allocs, readErr)
	}
	if c := matrixio.NPYBufCap(f); c != chunk*d*8 {
		t.Errorf("buffer of %d bytes after chunks of %d bytes", c, chunk*d*8)
	}
	if !sameBits(dst, m.Data[(n-chunk)*d:]) {
		t.Error("last chunk differs from what was written")
	}
	whole := make([]float64, n*d)
	if err := f.ReadRows(whole, 0, n); err != nil {
		t.Fatal(err)
	}
	if c := matrixio.NPYBufCap(f); c > matrixio.NPYBufBytes {
		t.Errorf("reading %d bytes at once grew the buffer to %d bytes (bound %d)", n*d*8, c, matrixio.NPYBufBytes)
	}
	if !sameBits(whole, m.Data) {
		t.Error("the whole file differs from what was written")
	}
}

func FuzzNPYHeader(f *testing.F) {
	for _, h := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }",
		`{"shape":(3L,2L,),"fortran_order":True,"descr":"<f8"}`,
		"{'descr': [('x', '<f8'), ('y', ('<i4', (2,)))], 'fortran_order': False, 'shape': (3,), }",
		"{'descr': '<f8', 'fortran_order': None, 'shape': ((), [], {}), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 9223372036854775807), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }",
		"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
		"{'descr': 'é\\x00", "", "(", "'",
	} {
		f.Add(h, uint8(1), uint16(48), false)
		f.Add(h, uint8(3), uint16(24), false)
	}
	for _, name := range []string{"f8_v1_3x2.npy", "f4_v2_2x3.npy"} {
		b, err := os.ReadFile(filepath.Join("testdata", "npy", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), uint8(0), uint16(0), true)
	}
	f.Add("\x93NUMPY\x02\x00\xff\xff\xff\xff", uint8(0), uint16(0), true)
	// raw: header is a whole file. Otherwise it is the header text of a file of format version
	// (version%4).0 followed by dataLen zero bytes.
	f.Fuzz(func(t *testing.T, header string, version uint8, dataLen uint16, raw bool) {
		b := []byte(header)
		if !raw {
			major := version % 4
			b = append([]byte("\x93NUMPY"), major, 0)
			if major == 1 {
				b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
			} else {
				b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
			}
			b = append(append(b, header...), make([]byte, dataLen)...)
		}
		dtype, rows, cols, off, err := matrixio.ParseNPYBytes(b)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error")
			}
			return
		}
		size := map[string]int64{"float32": 4, "float64": 8}[dtype]
		if size == 0 || rows < 1 || cols < 1 || off < 10 || off+int64(rows)*int64(cols)*size != int64(len(b)) {
			t.Errorf("accepted %q as %s (%d, %d) at %d, file of %d bytes", b, dtype, rows, cols, off, len(b))
		}
	})
}

func TestCSVMatrix(t *testing.T) {
	dir := t.TempDir()
	t.Run("values", func(t *testing.T) {
		path := filepath.Join(dir, "values.csv")
		body := "\uFEFF\"f1\", f2 ,f3,\r\n" + // BOM, quoted and spaced names, an unnamed fourth column
			"1,2.5,-3,0\r\n" +
			"NaN,Inf,-inf,+Infinity\n" +
			"\n" + // blank lines are skipped
			"\"1e-300\", 0x1p-2 ,-0,5e-324\n" +
			"1.7976931348623157e308,-2,\"3\",4" // no final newline
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := matrixio.OpenCSV(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if r, d := c.Dims(); r != 4 || d != 4 {
			t.Errorf("Dims %d×%d, want 4×4", r, d)
		}
		if got := strings.Join(c.Columns(), "|"); got != "f1|f2|f3|" {
			t.Errorf("Columns %q", got)
		}
		want := []float64{1, 2.5, -3, 0, math.NaN(), math.Inf(1), math.Inf(-1), math.Inf(1),
			1e-300, 0.25, math.Copysign(0, -1), 5e-324, math.MaxFloat64, -2, 3, 4}
		got := readChunks(t, c, 4, 1)
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Errorf("value %d: %v, want %v", i, got[i], want[i])
			}
		}
	})
	t.Run("passes", func(t *testing.T) {
		const n, d = 23, 3
		m := specialValues(n, d)
		var b strings.Builder
		b.WriteString("x,y,z\n")
		for i := range n {
			fmt.Fprintf(&b, "%v,%v,%v\n", m.Data[i*d], m.Data[i*d+1], m.Data[i*d+2])
		}
		path := filepath.Join(dir, "passes.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := matrixio.OpenCSV(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, chunk := range []int{1, 5, 23} {
			if got := readChunks(t, c, chunk, 3); !sameBits(got, m.Data) {
				t.Errorf("chunks of %d: %v\nwant %v", chunk, got, m.Data)
			}
		}
		// A pass cut short, then a new pass; a skip forward; a restart from the middle.
		row := make([]float64, d)
		for _, i := range []int{0, 1, 0, 7, 20, 3, 22} {
			if err := c.ReadRows(row, i, i+1); err != nil || !sameBits(row, m.Row(i)) {
				t.Errorf("row %d: %v, %v; want %v", i, row, err, m.Row(i))
			}
		}
	})
	t.Run("file changed", func(t *testing.T) {
		path := filepath.Join(dir, "changed.csv")
		if err := os.WriteFile(path, []byte("a,b\n1,2\n3,4\n5,6\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := matrixio.OpenCSV(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		dst := make([]float64, 6)
		for _, tc := range []struct{ body, want string }{
			{"a,b\n1,2\n3,4\n", "the file ends at row 2, but had 3 rows when opened (was it changed?)"},
			{"a,b\n1,2\n3,x\n5,6\n", `line 3, column "b": "x" is not a number`},
			{"a,b,c\n1,2,3\n", "the header has 3 fields, but had 2 when opened"},
			{"a,b\n1,2\n3,4\n5,6\n", ""},
		} {
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			err := c.ReadRows(dst, 0, 3)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("after writing %q: %v, want %q", tc.body, err, tc.want)
			}
		}
	})
}

func TestCSVMatrixErrors(t *testing.T) {
	dir := t.TempDir()
	rows := func(k int, last string) string { // header f1..f5, k good rows, then last
		var b strings.Builder
		b.WriteString("f1,f2,f3,f4,f5\n")
		for i := range k {
			fmt.Fprintf(&b, "%d,2,3,4,5\n", i)
		}
		return b.String() + last
	}
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "empty file (want a header row of column names, then one row of numbers per sample)"},
		{"blank lines only", "\n\n\n", "empty file"},
		{"header only", "a,b,c\n", "no data rows after the header (want one row of 3 numbers per sample)"},
		{"ragged short", rows(7, "1,2,3,4\n"), "line 9 has 4 fields, the header has 5"},
		{"ragged long", rows(2, "1,2,3,4,5,6\n"), "line 4 has 6 fields, the header has 5"},
		{"bad cell", rows(15, "1,2,abc,4,5\n"), `line 17, column "f3": "abc" is not a number`},
		{"empty cell", rows(1, "1,,3,4,5\n"), `line 3, column "f2": "" is not a number (an empty field)`},
		{"out of range", rows(0, "1,2,3,4,1e400\n"), `line 2, column "f5": "1e400" is out of the float64 range`},
		{"multi-line field", rows(0, "1,2,3,\"4\nx\",5\n"), `line 2, column "f4": "4\nx" is not a number`},
		{"unnamed column", "a,,c\n1,x,3\n", `line 2, column 2: "x" is not a number`},
		{"csv syntax", rows(1, "1,2,3\"x,4,5\n"), `parse error on line 3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := matrixio.OpenCSV(path)
			if err == nil {
				c.Close()
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q\nwant %q: …%s…", msg, path, tc.want)
			}
		})
	}
	if _, err := matrixio.OpenCSV(filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
}
