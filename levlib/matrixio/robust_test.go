package matrixio_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// Careless and hostile inputs of the readers of outside bytes (issue 20): special files, lines without
// end, missing headers, the two leverage CSV formats.

func mkfifo(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

// TestReadersRefuseSpecialFiles checks that a named pipe (which would block in open), a device
// (/dev/zero never ends) and a folder are refused by every reader, naming the path and what it is.
func TestReadersRefuseSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, dir)
	readers := map[string]func(string) error{
		"OpenNPY":         func(p string) error { _, err := matrixio.OpenNPY(p); return err },
		"OpenCSV":         func(p string) error { _, err := matrixio.OpenCSV(p); return err },
		"ReadLeverageCSV": func(p string) error { _, err := matrixio.ReadLeverageCSV(p); return err },
	}
	for name, read := range readers {
		for _, tc := range []struct{ path, want string }{
			{fifo, fifo + ": a named pipe, not a regular file"},
			{"/dev/zero", "/dev/zero: a character device, not a regular file"},
			{dir, dir + ": a folder, not a regular file"},
		} {
			err := read(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, fileio.ErrNotRegular) {
				t.Errorf("%s(%s) = %v, want %q", name, tc.path, err, tc.want)
			}
		}
	}
}

// TestCSVLineLimit checks that a line without end is refused after at most the line limit (about
// 1 MiB) has been buffered: an 8 MiB line allocates under 6 MiB before its error, and the header may
// have at most MaxCols columns.
func TestCSVLineLimit(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.csv")
	body := append([]byte("a,b\n"), bytes.Repeat([]byte("1,"), 4<<20)...)
	os.WriteFile(long, body, 0o644)
	zeros := filepath.Join(dir, "zeros.csv")
	os.WriteFile(zeros, make([]byte, 3<<20), 0o644)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := matrixio.OpenCSV(long)
	runtime.ReadMemStats(&after)
	if err == nil || !errors.Is(err, matrixio.ErrLineTooLong) ||
		!strings.Contains(err.Error(), "long.csv: line 2 has more than 16385 fields: line too long (rows of at most 16384 numbers are supported: is this a CSV matrix?)") {
		t.Errorf("long line: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6<<20 {
		t.Errorf("an 8 MiB line allocated %d bytes before its error", alloc)
	}
	if _, err := matrixio.OpenCSV(zeros); err == nil || !strings.Contains(err.Error(), "zeros.csv: line 1 is longer than") {
		t.Errorf("zero bytes: %v", err)
	}
	digits := filepath.Join(dir, "digits.csv")
	os.WriteFile(digits, append([]byte("a,b\n"), bytes.Repeat([]byte("1"), 2<<20)...), 0o644)
	if _, err := matrixio.OpenCSV(digits); err == nil || !strings.Contains(err.Error(), "digits.csv: line 2 is longer than 1052672 bytes: line too long") {
		t.Errorf("long field: %v", err)
	}
	wide := filepath.Join(dir, "wide.csv")
	os.WriteFile(wide, []byte(strings.Repeat("c,", matrixio.MaxCols)+"c\n"), 0o644)
	if _, err := matrixio.OpenCSV(wide); err == nil || !strings.Contains(err.Error(), "wide.csv: the header has 16385 columns, at most 16384 are supported") {
		t.Errorf("wide header: %v", err)
	}
	lev := filepath.Join(dir, "lev.csv")
	os.WriteFile(lev, append([]byte("index,leverage\n0,"), bytes.Repeat([]byte("1"), 5000)...), 0o644)
	if _, err := matrixio.ReadLeverageCSV(lev); err == nil || !strings.Contains(err.Error(), "lev.csv:2: line 2 is longer than 4096 bytes") {
		t.Errorf("leverage CSV: %v", err)
	}
}

// TestCSVHeader checks the missing-header detection: a first line of numbers is refused (np.savetxt
// without header=), pandas' default names 0…D−1 (and 1…D) are accepted as a header.
func TestCSVHeader(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		rows       int
		want       string
	}{
		{"no header", "1.5,2,3\n4,5,6\n", 0, `noheader.csv: line 1 holds 3 numbers, not column names: the first line must be a header row`},
		{"no header, one column", "0.25\n1\n", 0, "line 1 holds 1 numbers, not column names"},
		{"pandas default names", "0,1,2\n4,5,6\n7,8,9\n", 2, ""},
		{"names from 1", "1,2,3\n4,5,6\n", 1, ""},
		{"a name among numbers", "1,x,3\n4,5,6\n", 1, ""},
		{"NaN names", "nan,inf\n1,2\n", 0, "line 1 holds 2 numbers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "noheader.csv")
			os.WriteFile(path, []byte(tc.body), 0o644)
			c, err := matrixio.OpenCSV(path)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if n, _ := c.Dims(); n != tc.rows {
				t.Errorf("%d rows, want %d", n, tc.rows)
			}
		})
	}
}

// TestReadLeverageCSVFormats checks that both formats levstudy writes are read back exactly: the
// MNIST one (index,split,label,leverage) and the one of file bases (index,leverage, no labels).
func TestReadLeverageCSVFormats(t *testing.T) {
	dir := t.TempDir()
	scores := []float64{0.25, 1, 0, 0.1 + 0.2, 5e-324}
	var b bytes.Buffer
	if err := matrixio.EncodeScoresCSV(&b, scores); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.csv")
	os.WriteFile(path, b.Bytes(), 0o644)
	tab, err := matrixio.ReadLeverageCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Label != nil || tab.Split != nil || len(tab.Index) != 5 || tab.Index[4] != 4 {
		t.Errorf("table %+v", tab)
	}
	for i, s := range scores {
		if math.Float64bits(tab.Scores[i]) != math.Float64bits(s) {
			t.Errorf("score %d: %v, want %v", i, tab.Scores[i], s)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{"index,leverage\n0,0.5,extra\n", "bad.csv:2: 3 fields, the header has 2"},
		{"index,leverage\n0,0.5,1,2,3\n", "bad.csv:2: line 2 has more than 4 fields"},
		{"index,leverage\n1,0.5\n", `bad.csv:2: index "1", want 0`},
		{"index,leverage\n0,1.5\n", `bad.csv:2: leverage "1.5" is not a number in [0, 1]`},
		{"index,score\n0,0.5\n", `bad.csv:1: header "index,score", want "index,split,label,leverage" or "index,leverage"`},
		{"", "bad.csv:1: empty file"},
		{"index,leverage\n", "bad.csv:2: no rows"},
		{"index,split,label,leverage\n0,train,5\n", "bad.csv:2: 3 fields, the header has 4"},
	} {
		p := filepath.Join(dir, "bad.csv")
		os.WriteFile(p, []byte(tc.body), 0o644)
		if _, err := matrixio.ReadLeverageCSV(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
}

// fuzzFile writes b to a file in a fresh temporary folder.
func fuzzFile(t *testing.T, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzNPYFile reads arbitrary bytes as a .npy file (header and body): no panic, and an accepted file
// holds exactly rows·cols values that ReadNPY returns.
func FuzzNPYFile(f *testing.F) {
	for _, name := range []string{"f8_v1_3x2.npy", "f4_v2_2x3.npy", "be_f8_3x2.npy", "be_f4_2x3.npy"} {
		b, err := os.ReadFile(filepath.Join("testdata", "npy", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr':'f8'}"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := fuzzFile(t, "x.npy", b)
		m, err := matrixio.ReadNPY(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if m.Rows < 1 || m.Cols < 1 || len(m.Data) != m.Rows*m.Cols {
			t.Errorf("accepted a %d×%d matrix with %d values", m.Rows, m.Cols, len(m.Data))
		}
		f, err := matrixio.OpenNPY(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		item := map[string]int{"float32": 4, "float64": 8}[f.DType()]
		if len(b) < m.Rows*m.Cols*item {
			t.Errorf("%d bytes hold %d values of %s", len(b), m.Rows*m.Cols, f.DType())
		}
	})
}

// FuzzCSVMatrix reads arbitrary bytes as a CSV matrix: no panic; an accepted file gives rows·cols
// values, read the same in one call and in row chunks.
func FuzzCSVMatrix(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n3,4\n", "\uFEFF\"f1\", f2\r\n1,2.5\r\n", "0,1\n2,3\n", "1,2\n3,4\n", "a\n\n\n1\n",
		"a,b\n1,\"2\n3\"\n", "a,b\n1\n", "a,b\nNaN,Inf\n", "x,y\n1e999,0\n", "\"", "a,b\n1,2,3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := fuzzFile(t, "x.csv", b)
		c, err := matrixio.OpenCSV(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), p) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		defer c.Close()
		n, d := c.Dims()
		if n < 1 || d < 1 || d > matrixio.MaxCols || len(c.Columns()) != d {
			t.Fatalf("accepted %d×%d", n, d)
		}
		all := make([]float64, n*d)
		if err := c.ReadRows(all, 0, n); err != nil {
			t.Fatal(err)
		}
		row := make([]float64, d)
		for i := 0; i < n; i++ {
			if err := c.ReadRows(row, i, i+1); err != nil {
				t.Fatal(err)
			}
			for j, v := range row {
				if math.Float64bits(v) != math.Float64bits(all[i*d+j]) && !(math.IsNaN(v) && math.IsNaN(all[i*d+j])) {
					t.Fatalf("row %d differs between passes", i)
				}
			}
		}
	})
}

// FuzzReadLeverageCSV reads arbitrary bytes as a leverage CSV: no panic; an accepted table has
// indices 0…n−1, scores in [0, 1], and labels and splits for every row or none.
func FuzzReadLeverageCSV(f *testing.F) {
	for _, s := range []string{
		"index,split,label,leverage\n0,train,5,0.25\n1,test,0,1\n", "index,leverage\n0,0.5\n1,0\n",
		"index,leverage\n0,NaN\n", "index,leverage\n", "index,split,label,leverage\n0,train,12,0.1\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := matrixio.ReadLeverageCSV(fuzzFile(t, "l.csv", b))
		if err != nil {
			return
		}
		n := len(tab.Scores)
		if n == 0 || len(tab.Index) != n || (tab.Label != nil && (len(tab.Label) != n || len(tab.Split) != n)) {
			t.Fatalf("table of %d scores, %d indices, %d labels", n, len(tab.Index), len(tab.Label))
		}
		for i, s := range tab.Scores {
			if tab.Index[i] != i || !(s >= 0 && s <= 1) {
				t.Fatalf("row %d: index %d, score %v", i, tab.Index[i], s)
			}
		}
		for i := range tab.Label {
			if tab.Label[i] < 0 || tab.Label[i] > 9 || (tab.Split[i] != "train" && tab.Split[i] != "test") {
				t.Fatalf("row %d: label %d, split %q", i, tab.Label[i], tab.Split[i])
			}
		}
	})
}
