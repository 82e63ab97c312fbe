package leverage_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// readVec reads a 1-D little-endian float64 .npy file of version 1.0 (as np.save writes a vector).
func readVec(t *testing.T, name string) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scale", name))
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if !strings.Contains(string(b[10:10+hl]), "'<f8'") || (len(b)-10-hl)%8 != 0 {
		t.Fatalf("%s: not a float64 vector", name)
	}
	v := make([]float64, (len(b)-10-hl)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[10+hl+8*i:]))
	}
	return v
}

// TestLeverageUnitsInvariant checks that the scores do not depend on the features' units over the
// whole float64 range (issue 20: at 1e-170 the engine said "X is all zeros", at 1e-160 Σℓ was off by
// 2e-6, from 1e153 up the eigensolver failed, one entry of 1e300 gave all ℓ = 0). The references are
// numpy 1.24 float64 SVD leverage of the column-equilibrated X (testdata/scale/make_refs.py); the
// tolerance 1e-12 is far below anything a wrong rank or an underflowed Gram matrix gives (≥ 1e-6).
func TestLeverageUnitsInvariant(t *testing.T) {
	sel := testutil.Backend(t)
	base, err := matrixio.ReadNPY(filepath.Join("testdata", "scale", "base.npy"))
	if err != nil {
		t.Fatal(err)
	}
	refBase := readVec(t, "base.eq.npy")
	ref1e300 := readVec(t, "one_1e300.eq.npy")
	refSub := readVec(t, "col_one_1e-320.eq.npy")
	variant := func(edit func(x *matrixio.Matrix)) *matrixio.Matrix {
		x := &matrixio.Matrix{Rows: base.Rows, Cols: base.Cols, Data: append([]float64(nil), base.Data...)}
		edit(x)
		return x
	}
	scaled := func(c float64) *matrixio.Matrix {
		return variant(func(x *matrixio.Matrix) {
			for i := range x.Data {
				x.Data[i] *= c
			}
		})
	}
	zerosWith := func(v float64) *matrixio.Matrix {
		x := matrixio.NewMatrix(400, 12)
		x.Data[17*12+3] = v
		return x
	}
	oneHot := make([]float64, 400)
	oneHot[17] = 1
	for _, tc := range []struct {
		name string
		x    *matrixio.Matrix
		rank int
		ref  []float64
	}{
		{"×1", scaled(1), 12, refBase},
		{"×1e-320 (subnormal)", scaled(1e-310), 12, refBase},
		{"×1e-300", scaled(1e-300), 12, refBase},
		{"×1e-170", scaled(1e-170), 12, refBase},
		{"×1e-160", scaled(1e-160), 12, refBase},
		{"×1e153", scaled(1e153), 12, refBase},
		{"×1e200", scaled(1e200), 12, refBase},
		{"×1e300", scaled(1e300), 12, refBase},
		{"columns ×1e200 and ×1e-200", variant(func(x *matrixio.Matrix) {
			for i := 0; i < 400; i++ {
				x.Data[i*12+5] *= 1e200
				x.Data[i*12+7] *= 1e-200
			}
		}), 12, refBase},
		{"columns from 1e-300 to 1e300", variant(func(x *matrixio.Matrix) {
			for i := 0; i < 400; i++ {
				for j := 0; j < 12; j++ {
					x.Data[i*12+j] *= math.Pow(10, float64(-300+j*50))
				}
			}
		}), 12, refBase},
		{"X[17, 3] = 1e300", variant(func(x *matrixio.Matrix) { x.Data[17*12+3] = 1e300 }), 12, ref1e300},
		{"column 3 = 1e-320·e_17", variant(func(x *matrixio.Matrix) {
			for i := 0; i < 400; i++ {
				x.Data[i*12+3] = 0
			}
			x.Data[17*12+3] = 1e-320
		}), 12, refSub},
		{"zeros and one 1e300", zerosWith(1e300), 1, oneHot},
		{"zeros and one 1e-320", zerosWith(1e-320), 1, oneHot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ref := range []leverage.Refinement{leverage.RefineAuto, leverage.RefineAlways} {
				// Streamed (a RowSource that is not in memory) and in memory take different paths for zero
				// columns; both are checked.
				for _, src := range []matrixio.RowSource{tc.x, streamed{tc.x}} {
					res, err := leverage.Scores(context.Background(), sel.Backend, src, leverage.Options{Refinement: ref})
					if err != nil {
						t.Fatalf("refine %s: %v", ref, err)
					}
					d, at := testutil.MaxAbsDiff(res.Scores, tc.ref)
					if res.Rank != tc.rank || d > 1e-12 || math.Abs(sum(res.Scores)-float64(tc.rank)) > 1e-9 {
						t.Errorf("refine %s, %T: rank %d (want %d), Σℓ = %.15g, max |Δℓ| = %.3g at row %d",
							ref, src, res.Rank, tc.rank, sum(res.Scores), d, at)
					}
					for _, w := range res.Warnings {
						if strings.Contains(w.Error(), "all zeros") || (tc.rank == 12 && errors.Is(w, leverage.ErrRankDeficient)) {
							t.Errorf("refine %s: warning %v", ref, w)
						}
					}
				}
			}
		})
	}
}

// streamed hides a matrix's in-memory rows, as a file source does.
type streamed struct{ m *matrixio.Matrix }

func (s streamed) Dims() (int, int)                         { return s.m.Dims() }
func (s streamed) ReadRows(dst []float64, lo, hi int) error { return s.m.ReadRows(dst, lo, hi) }

// TestRidgeUnits checks ridge leverage at extreme scales, where σ² over- or underflows: λ is in X's
// units, so ℓ(cX, c²λ) = ℓ(X, λ). At c = 1e154 σ² (about 1e310) overflows; at c = 1e-156
// σ² is subnormal (λ is chosen so that c²λ stays a normal number).
func TestRidgeUnits(t *testing.T) {
	sel := testutil.Backend(t)
	base, err := matrixio.ReadNPY(filepath.Join("testdata", "scale", "base.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ c, lambda float64 }{{1e150, 300}, {1e154, 1}, {1e-156, 3e6}, {1e-100, 300}} {
		want, err := leverage.Scores(context.Background(), sel.Backend, base, leverage.Options{Ridge: tc.lambda})
		if err != nil {
			t.Fatal(err)
		}
		x := &matrixio.Matrix{Rows: base.Rows, Cols: base.Cols, Data: make([]float64, len(base.Data))}
		for i, v := range base.Data {
			x.Data[i] = v * tc.c
		}
		res, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{Ridge: tc.lambda * tc.c * tc.c})
		if err != nil {
			t.Fatalf("c = %g: %v", tc.c, err)
		}
		if d, at := testutil.MaxAbsDiff(res.Scores, want.Scores); d > 1e-12*max(1, sum(want.Scores)) || sum(want.Scores) > 11.99 {
			t.Errorf("c = %g, λ = %g: max |Δℓ| = %.3g at row %d (Σℓ %.9g, unscaled %.9g)", tc.c, tc.lambda, d, at, sum(res.Scores), sum(want.Scores))
		}
	}
}

// TestLeverageBitIdentical checks that ordinary data takes the path it took before the pre-scaling was
// added, bit for bit: the scores of the base matrix equal those of the base times 2^k (an exact change
// of units that needs no pre-scaling), and one Gram pass is counted, not two.
func TestLeverageBitIdentical(t *testing.T) {
	sel := testutil.Backend(t)
	base, err := matrixio.ReadNPY(filepath.Join("testdata", "scale", "base.npy"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := leverage.Scores(context.Background(), sel.Backend, base, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := &matrixio.Matrix{Rows: base.Rows, Cols: base.Cols, Data: make([]float64, len(base.Data))}
	for i, v := range base.Data {
		x.Data[i] = math.Ldexp(v, 300)
	}
	res2, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Scores {
		if math.Float64bits(res.Scores[i]) != math.Float64bits(res2.Scores[i]) {
			t.Fatalf("row %d: %v, ×2^300: %v", i, res.Scores[i], res2.Scores[i])
		}
	}
	if res.Passes != 2 || res2.Passes != 2 {
		t.Errorf("passes %d and %d, want 2 (Gram, projection)", res.Passes, res2.Passes)
	}
	// Beyond 2^400 the Gram matrix is formed again from pre-scaled columns: one more pass, same scores
	// (the pre-scaling is exact).
	for i, v := range base.Data {
		x.Data[i] = math.Ldexp(v, 900)
	}
	res3, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := testutil.MaxAbsDiff(res.Scores, res3.Scores); d != 0 || res3.Passes != 3 {
		t.Errorf("×2^900: max |Δℓ| = %g (want 0), %d passes (want 3)", d, res3.Passes)
	}
}

// TestLeverageTooWide checks that a matrix wider than MaxCols is refused before anything is computed
// or allocated.
func TestLeverageTooWide(t *testing.T) {
	sel := testutil.Backend(t)
	_, err := leverage.Scores(context.Background(), sel.Backend, wide{20000, leverage.MaxCols + 1}, leverage.Options{})
	if err == nil || !strings.Contains(err.Error(), "16385 columns, at most 16384 are supported (the D×D Gram matrix alone needs 2.0 GiB)") {
		t.Errorf("error %v", err)
	}
}

// wide is a RowSource that fails if read.
type wide struct{ n, d int }

func (w wide) Dims() (int, int) { return w.n, w.d }
func (w wide) ReadRows([]float64, int, int) error {
	return errors.New("read")
}
