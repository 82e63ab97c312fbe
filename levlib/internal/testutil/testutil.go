// Package testutil holds what the tests of several levlib packages share: the pure-Go backend, the
// MNIST folder (skipping where it is absent, failing under CI), small synthetic datasets and matrices
// with known leverage.
package testutil

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// TinyDataset returns n synthetic images (a few pixels lit per image, labels i mod 10), the first
// n − n/4 of them training rows, with the real MNIST files' hashes so that cache keys look real.
func TinyDataset(n int) *mnist.Dataset {
	ds := &mnist.Dataset{Pixels: make([]byte, n*784), Labels: make([]uint8, n), NumTrain: n - n/4,
		SHA256: map[string]string{}}
	for i := range ds.Labels {
		ds.Labels[i] = uint8(i % 10)
		for p := 0; p < 784; p += 7 + i%5 {
			ds.Pixels[i*784+p] = byte(40 * (i%6 + 1))
		}
	}
	for _, f := range mnist.Files() {
		ds.SHA256[f.Name] = f.SHA256
	}
	return ds
}

// GoBackend returns GoMLX's pure-Go backend with an unlimited worker pool (as levlib/backend sets it).
func GoBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := gobackend.New("parallelism=-1")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RandMatrix returns an n×d matrix of standard normal entries drawn from rng.
func RandMatrix(rng *rand.Rand, n, d int) *matrixio.Matrix {
	m := matrixio.NewMatrix(n, d)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

// Backend returns the pure-Go backend (the one CI has) as levlib/backend selects it.
func Backend(t testing.TB) *backend.Selection {
	t.Helper()
	sel, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// MaxAbsDiff returns max_i |a_i − b_i| and its index (−1 when a is empty); a NaN difference counts as
// the maximum.
func MaxAbsDiff(a, b []float64) (float64, int) {
	m, at := 0.0, -1
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > m || math.IsNaN(d) {
			m, at = d, i
		}
	}
	return m, at
}

// HasWarning reports whether any of ws is target (errors.Is).
func HasWarning(ws []error, target error) bool {
	for _, w := range ws {
		if errors.Is(w, target) {
			return true
		}
	}
	return false
}

// MNISTDir returns the folder with the real MNIST files (`make data` fills it). Without it the test is
// skipped, except under CI=true, where missing data is a failure.
func MNISTDir(t testing.TB) string {
	t.Helper()
	dir := mnist.DefaultDataDir()
	if _, err := os.Stat(filepath.Join(dir, mnist.Files()[0].Name)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MNIST data missing in %s under CI: run `make data`", dir)
		}
		t.Skipf("MNIST data not installed in %s: run `make data` (or set %s)", dir, mnist.DataDirEnv)
	}
	return dir
}

// CheckLeverage fails t unless every score is in [0, 1] and they sum to rank (within 1e-8 relative).
func CheckLeverage(t testing.TB, scores []float64, rank int) {
	t.Helper()
	s := 0.0
	for i, l := range scores {
		if l < 0 || l > 1 || math.IsNaN(l) {
			t.Fatalf("ℓ[%d] = %v outside [0, 1]", i, l)
		}
		s += l
	}
	if math.Abs(s-float64(rank)) > 1e-8*float64(rank+1) {
		t.Errorf("Σℓ = %.12f, want rank %d", s, rank)
	}
}
