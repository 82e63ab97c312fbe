package levlib_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"testing"

	"github.com/levstudy/levstudy/levlib"
)

// readF64GZ reads a gzip of little-endian float64 values.
func readF64GZ(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(raw)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	return out
}

// TestMNISTRawLeverage checks the exact method on the full 70,000×784 RAW basis against the reference
// of testdata/mnist_raw_leverage_svd.f64.gz (numpy 1.24 float64 SVD, numpy.linalg.matrix_rank's
// tolerance; made by scripts/reference/mnist_raw_leverage.py): rank exactly 713, max |Δℓ| ≤ 1e-7.
// The seed's QR method gets 784 and ℓ = 1 on rows 0–13, where columns (pixels) 0–13 are all zero.
func TestMNISTRawLeverage(t *testing.T) {
	if testing.Short() {
		t.Skip("70,000-row leverage takes about a minute on the pure-Go backend; skipped under -short")
	}
	ds, err := levlib.LoadMNIST(mnistDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ref := readF64GZ(t, "testdata/mnist_raw_leverage_svd.f64.gz")
	sel := testBackend(t)
	res, err := levlib.LeverageScores(context.Background(), sel.Backend, levlib.RawBasis(ds), levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rank != 713 {
		t.Errorf("rank %d, want 713", res.Rank)
	}
	if d, i := maxAbsDiff(res.Scores, ref); d > 1e-7 {
		t.Errorf("max |ℓ - ℓ_numpy| = %.3g at row %d, want ≤ 1e-7", d, i)
	} else {
		t.Logf("max |ℓ - ℓ_numpy| = %.3g", d)
	}
	checkProperties(t, res)
	if !hasWarning(res.Warnings, levlib.ErrRankDeficient) {
		t.Errorf("no rank-deficiency warning: %v", res.Warnings)
	}
}

// TestMNISTRawSubset checks rank and Σℓ on the first 3000 rows against gonum's SVD (fast enough for
// -short).
func TestMNISTRawSubset(t *testing.T) {
	ds, err := levlib.LoadMNIST(mnistDir(t), 3000)
	if err != nil {
		t.Fatal(err)
	}
	x := levlib.RawBasis(ds)
	ref, refRank := svdLeverage(t, x)
	res, err := levlib.LeverageScores(context.Background(), testBackend(t).Backend, x, levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rank != refRank {
		t.Errorf("rank %d, gonum SVD %d", res.Rank, refRank)
	}
	if d, i := maxAbsDiff(res.Scores, ref); d > 1e-7 {
		t.Errorf("max |ℓ - ℓ_svd| = %.3g at row %d", d, i)
	}
	checkProperties(t, res)
}

// TestReLUBasis compares the GoMLX ReLU features with a plain host loop, and checks that the seed fixes
// them.
func TestReLUBasis(t *testing.T) {
	ds, err := levlib.LoadMNIST(mnistDir(t), 50)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b := testBackend(t).Backend
	const f = 64
	m, err := levlib.ReLUBasis(ctx, b, ds, levlib.ReLUOptions{Features: f, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	x, w := levlib.RawBasis(ds), levlib.ReLUWeights(f, 3)
	for i := 0; i < ds.N(); i++ {
		for j := 0; j < f; j++ {
			z := 0.0
			for k := 0; k < levlib.ImagePixels; k++ {
				z += x.Data[i*levlib.ImagePixels+k] * w.Data[k*f+j]
			}
			want := math.Max(z, 0) / math.Sqrt(f)
			if got := m.Data[i*f+j]; math.Abs(got-want) > 1e-12 {
				t.Fatalf("(%d,%d) = %v, want %v", i, j, got, want)
			}
		}
	}
	again, _ := levlib.ReLUBasis(ctx, b, ds, levlib.ReLUOptions{Features: f, Seed: 3})
	other, _ := levlib.ReLUBasis(ctx, b, ds, levlib.ReLUOptions{Features: f, Seed: 4})
	if d, _ := maxAbsDiff(m.Data, again.Data); d != 0 {
		t.Errorf("same seed differs by %g", d)
	}
	if d, _ := maxAbsDiff(m.Data, other.Data); d == 0 {
		t.Error("seeds 3 and 4 gave the same features")
	}
	if _, err := levlib.ReLUBasis(ctx, b, ds, levlib.ReLUOptions{}); err == nil {
		t.Error("0 features: no error")
	}
}
