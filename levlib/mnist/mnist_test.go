package mnist_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestParseIDX(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	idx, err := mnist.ParseIDX(good)
	if err != nil || len(idx.Dims) != 2 || idx.Dims[0] != 2 || idx.Dims[1] != 3 || idx.Data[5] != 6 {
		t.Fatalf("ParseIDX(good) = %+v, %v", idx, err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, mnist.ErrIDXTruncated},
		{"float type", append([]byte{0, 0, 0x0d, 1}, good[4:]...), mnist.ErrIDXMagic},
		{"nonzero lead", append([]byte{1, 0, 8, 2}, good[4:]...), mnist.ErrIDXMagic},
		{"zero dims", []byte{0, 0, 8, 0}, mnist.ErrIDXMagic},
		{"short header", good[:9], mnist.ErrIDXTruncated},
		{"short data", good[:len(good)-1], mnist.ErrIDXTruncated},
		{"trailing", append(good, 7), mnist.ErrIDXTrailing},
		{"huge dims", idxBytes([]int{1 << 20, 1 << 20}, nil), mnist.ErrIDXTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := mnist.ParseIDX(tc.b); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzParseIDX checks that ParseIDX never panics and that what it accepts is self-consistent.
func FuzzParseIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(idxBytes([]int{1}, []byte{9}))
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := mnist.ParseIDX(b)
		if err != nil {
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if n != len(idx.Data) || 4+4*len(idx.Dims)+n != len(b) {
			t.Fatalf("dims %v, %d data bytes, input %d bytes", idx.Dims, len(idx.Data), len(b))
		}
	})
}

// writeSet writes a tiny MNIST-format set (train and test) to a new folder.
func writeSet(t *testing.T, trainN, testN int, mutate func(name string, raw []byte) []byte) string {
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		dims []int
		n    int
	}{
		{"train-images-idx3-ubyte.gz", []int{trainN, 28, 28}, trainN * 784},
		{"train-labels-idx1-ubyte.gz", []int{trainN}, trainN},
		{"t10k-images-idx3-ubyte.gz", []int{testN, 28, 28}, testN * 784},
		{"t10k-labels-idx1-ubyte.gz", []int{testN}, testN},
	} {
		data := make([]byte, f.n)
		for i := range data {
			data[i] = byte(i % 10)
		}
		raw := idxBytes(f.dims, data)
		if mutate != nil {
			raw = mutate(f.name, raw)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), gz(raw), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadMNISTFormatErrors(t *testing.T) {
	ds, err := mnist.LoadFormat(writeSet(t, 5, 3, nil), 0)
	if err != nil || ds.N() != 8 || ds.NumTrain != 5 || len(ds.Pixels) != 8*784 || ds.Split(5) != "test" {
		t.Fatalf("good set: %v, %+v", err, ds)
	}
	ds, err = mnist.LoadFormat(writeSet(t, 5, 3, nil), 6)
	if err != nil || ds.N() != 6 || ds.NumTrain != 5 {
		t.Fatalf("rows=6: %v, N=%d", err, ds.N())
	}
	for _, tc := range []struct {
		name, file, want string
		mutate           func(name string, raw []byte) []byte
	}{
		{"magic", "t10k-images-idx3-ubyte.gz", "bad IDX magic number", func(name string, raw []byte) []byte {
			if strings.HasPrefix(name, "t10k-images") {
				raw[2] = 0x0b
			}
			return raw
		}},
		{"truncated", "train-images-idx3-ubyte.gz", "truncated IDX file", func(name string, raw []byte) []byte {
			if strings.HasPrefix(name, "train-images") {
				return raw[:len(raw)-100]
			}
			return raw
		}},
		{"count mismatch", "train-labels-idx1-ubyte.gz", "4 labels for 5 images", func(name string, raw []byte) []byte {
			if strings.HasPrefix(name, "train-labels") {
				return idxBytes([]int{4}, []byte{1, 2, 3, 4})
			}
			return raw
		}},
		{"label not a digit", "t10k-labels-idx1-ubyte.gz", "row 1: label 12 is not a digit", func(name string, raw []byte) []byte {
			if strings.HasPrefix(name, "t10k-labels") {
				return idxBytes([]int{3}, []byte{1, 12, 3})
			}
			return raw
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSet(t, 5, 3, tc.mutate)
			_, err := mnist.LoadFormat(dir, 0)
			var fe *mnist.FileError
			if !errors.As(err, &fe) || fe.Path != filepath.Join(dir, tc.file) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming %s with %q", err, tc.file, tc.want)
			}
		})
	}
	// Not gzip at all.
	dir := writeSet(t, 5, 3, nil)
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), []byte("plain"), 0o644)
	if _, err := mnist.LoadFormat(dir, 0); err == nil || !strings.Contains(err.Error(), "train-labels-idx1-ubyte.gz: gzip") {
		t.Errorf("not gzip: got %v", err)
	}
}

func TestLoadMNISTChecksumAndMissing(t *testing.T) {
	dir := writeSet(t, 5, 3, nil)
	_, err := mnist.Load(dir, 0)
	if !errors.Is(err, mnist.ErrChecksum) || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
		t.Errorf("foreign files: got %v, want a sha256 mismatch naming the file", err)
	}
	empty := t.TempDir()
	_, err = mnist.Load(empty, 0)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "looked in "+empty) {
		t.Errorf("missing: got %v, want where it looked", err)
	}
	if err := mnist.Install(dir, t.TempDir()); !errors.Is(err, mnist.ErrChecksum) {
		t.Errorf("InstallMNIST of foreign files: got %v", err)
	}
}

// TestLoadMNISTReal checks the real files: counts, labels and pixel sums of the canonical MNIST.
func TestLoadMNISTReal(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N() != 70000 || ds.NumTrain != 60000 || len(ds.Pixels) != 70000*784 {
		t.Fatalf("N=%d train=%d pixels=%d", ds.N(), ds.NumTrain, len(ds.Pixels))
	}
	// First labels of the training and test files (as in every MNIST reader: 5 0 4 1 9 / 7 2 1 0 4).
	for i, want := range []uint8{5, 0, 4, 1, 9} {
		if ds.Labels[i] != want {
			t.Errorf("train label %d = %d, want %d", i, ds.Labels[i], want)
		}
	}
	for i, want := range []uint8{7, 2, 1, 0, 4} {
		if ds.Labels[60000+i] != want {
			t.Errorf("test label %d = %d, want %d", i, ds.Labels[60000+i], want)
		}
	}
	counts := make([]int, 10)
	for _, l := range ds.Labels[:60000] {
		counts[l]++
	}
	// Training-set class counts of MNIST.
	if want := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}; !slices.Equal(counts, want) {
		t.Errorf("train class counts %v, want %v", counts, want)
	}
	// An installed copy is verified and left alone.
	dst := t.TempDir()
	if err := mnist.Install(testutil.MNISTDir(t), dst); err != nil {
		t.Fatal(err)
	}
	if _, err := mnist.Load(dst, 10); err != nil {
		t.Fatal(err)
	}
}
