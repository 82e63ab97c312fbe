package leverage_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
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
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ref := readF64GZ(t, "testdata/mnist_raw_leverage_svd.f64.gz")
	sel := testutil.Backend(t)
	res, err := leverage.Scores(context.Background(), sel.Backend, basis.Raw(ds), leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rank != 713 {
		t.Errorf("rank %d, want 713", res.Rank)
	}
	if d, i := testutil.MaxAbsDiff(res.Scores, ref); d > 1e-7 {
		t.Errorf("max |ℓ - ℓ_numpy| = %.3g at row %d, want ≤ 1e-7", d, i)
	} else {
		t.Logf("max |ℓ - ℓ_numpy| = %.3g", d)
	}
	testutil.CheckLeverage(t, res.Scores, res.Rank)
	if !testutil.HasWarning(res.Warnings, leverage.ErrRankDeficient) {
		t.Errorf("no rank-deficiency warning: %v", res.Warnings)
	}
}

// TestMNISTRawSubset checks rank and Σℓ on the first 3000 rows against gonum's SVD (fast enough for
// -short).
func TestMNISTRawSubset(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 3000)
	if err != nil {
		t.Fatal(err)
	}
	x := basis.Raw(ds)
	ref, refRank := svdLeverage(t, x)
	res, err := leverage.Scores(context.Background(), testutil.Backend(t).Backend, x, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rank != refRank {
		t.Errorf("rank %d, gonum SVD %d", res.Rank, refRank)
	}
	if d, i := testutil.MaxAbsDiff(res.Scores, ref); d > 1e-7 {
		t.Errorf("max |ℓ - ℓ_svd| = %.3g at row %d", d, i)
	}
	testutil.CheckLeverage(t, res.Scores, res.Rank)
}
