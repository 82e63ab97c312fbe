package mnist_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// tinySet writes a 3+2-row MNIST-format set to dir, with the train labels' gzip bytes replaced by
// labels when not nil.
func tinySet(t testing.TB, dir string, labels []byte) {
	for _, f := range []struct {
		name string
		dims []int
	}{
		{"train-images-idx3-ubyte.gz", []int{3, 28, 28}},
		{"train-labels-idx1-ubyte.gz", []int{3}},
		{"t10k-images-idx3-ubyte.gz", []int{2, 28, 28}},
		{"t10k-labels-idx1-ubyte.gz", []int{2}},
	} {
		n := 1
		for _, d := range f.dims {
			n *= d
		}
		b := gz(idxBytes(f.dims, make([]byte, n)))
		if labels != nil && f.name == "train-labels-idx1-ubyte.gz" {
			b = labels
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadRefusesSpecialFiles checks that a data file that is a named pipe is refused at once (reading
// it would block forever), naming the file.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	tinySet(t, dir, nil)
	p := filepath.Join(dir, "train-labels-idx1-ubyte.gz")
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	_, err := mnist.LoadFormat(dir, 0)
	if err == nil || !errors.Is(err, fileio.ErrNotRegular) || !strings.Contains(err.Error(), p+": a named pipe") {
		t.Errorf("LoadFormat with a named pipe: %v", err)
	}
}

// FuzzLoadFormat loads a set whose training labels file is arbitrary bytes (gzip, then IDX): no panic;
// an accepted set has as many labels as images, every label a digit.
func FuzzLoadFormat(f *testing.F) {
	f.Add(gz(idxBytes([]int{3}, []byte{1, 2, 3})))
	f.Add(gz(idxBytes([]int{3}, []byte{1, 2, 30})))
	f.Add(gz(idxBytes([]int{4}, []byte{1, 2, 3, 4})))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		tinySet(t, dir, b)
		ds, err := mnist.LoadFormat(dir, 0)
		if err != nil {
			return
		}
		if ds.N() != 5 || len(ds.Pixels) != 5*mnist.ImagePixels || ds.NumTrain != 3 {
			t.Fatalf("accepted %d rows, %d pixels, %d training", ds.N(), len(ds.Pixels), ds.NumTrain)
		}
		for i, l := range ds.Labels {
			if l > 9 {
				t.Fatalf("row %d: label %d", i, l)
			}
		}
	})
}
