package leverage_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"gonum.org/v1/gonum/mat"
)

// svdLeverage is the slow reference: gonum's thin SVD X = UΣVᵀ, rank r = #{σ > σ_max·max(N,D)·eps}
// (numpy.linalg.matrix_rank's tolerance) and ℓ_i = Σ_{j<r} U_ij².
func svdLeverage(t testing.TB, x *matrixio.Matrix) ([]float64, int) {
	t.Helper()
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(x.Rows, x.Cols, x.Data), mat.SVDThinU) {
		t.Fatal("reference SVD failed")
	}
	sv := svd.Values(nil)
	tol := sv[0] * float64(max(x.Rows, x.Cols)) * 0x1p-52
	r := 0
	for _, s := range sv {
		if s > tol {
			r++
		}
	}
	var u mat.Dense
	svd.UTo(&u)
	lev := make([]float64, x.Rows)
	for i := range lev {
		for j := 0; j < r; j++ {
			lev[i] += u.At(i, j) * u.At(i, j)
		}
	}
	return lev, r
}

func sum(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s
}

// TestLeverageMatchesSVD checks the exact method against the slow SVD reference: |Δℓ| ≤ 1e-7 and the
// same rank, on full-rank, ill-conditioned (up to 1e8), rank-deficient and column-scaled (1e6) bases.
func TestLeverageMatchesSVD(t *testing.T) {
	sel := testutil.Backend(t)
	for _, tc := range testutil.SynthCases() {
		ref, refRank := svdLeverage(t, tc.X)
		if refRank != tc.WantRank {
			t.Fatalf("%s: reference rank %d, constructed %d", tc.Name, refRank, tc.WantRank)
		}
		for _, refine := range []leverage.Refinement{leverage.RefineAuto, leverage.RefineAlways} {
			t.Run(tc.Name+"/refine="+refine.String(), func(t *testing.T) {
				res, err := leverage.Scores(context.Background(), sel.Backend, tc.X, leverage.Options{ChunkRows: 128, Refinement: refine})
				if err != nil {
					t.Fatal(err)
				}
				if res.Rank != refRank {
					t.Errorf("rank %d, want %d", res.Rank, refRank)
				}
				if d, i := testutil.MaxAbsDiff(res.Scores, ref); d > 1e-7 {
					t.Errorf("max |ℓ - ℓ_svd| = %.3g at row %d (ℓ=%.12f, ref %.12f), want ≤ 1e-7", d, i, res.Scores[i], ref[i])
				} else {
					t.Logf("max |ℓ - ℓ_svd| = %.2g (rank %d, refined %t)", d, res.Rank, res.Refined)
				}
				testutil.CheckLeverage(t, res.Scores, res.Rank)
			})
		}
	}
}

// TestPaths checks which path the exact method takes and what the refinement buys: a well-conditioned
// basis and a rank-deficient one with a clean gap (like MNIST RAW) take the two-pass path and match the
// SVD; a basis with condition number 1e8 is refined, and the two-pass path forced on it (RefineNever) is
// off by more than 1e-3 (measured: 3.8e-2 with the first version's unrefined path).
func TestPaths(t *testing.T) {
	sel := testutil.Backend(t)
	cases := testutil.SynthCases()
	for _, tc := range []struct {
		c          testutil.SynthCase
		wantRefine bool
	}{{cases[0], false}, {cases[3], true}, {cases[4], false}, {cases[8], false}} {
		ref, _ := svdLeverage(t, tc.c.X)
		auto, err := leverage.Scores(context.Background(), sel.Backend, tc.c.X, leverage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if auto.Refined != tc.wantRefine {
			t.Errorf("%s: refined = %t, want %t", tc.c.Name, auto.Refined, tc.wantRefine)
		}
		if want := map[bool]int{false: 2, true: 3}[tc.wantRefine]; auto.Passes != want {
			t.Errorf("%s: %d passes, want %d", tc.c.Name, auto.Passes, want)
		}
		if d, _ := testutil.MaxAbsDiff(auto.Scores, ref); d > 1e-7 {
			t.Errorf("%s: error %.3g", tc.c.Name, d)
		}
		if !tc.wantRefine {
			continue
		}
		never, err := leverage.Scores(context.Background(), sel.Backend, tc.c.X, leverage.Options{Refinement: leverage.RefineNever})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := testutil.MaxAbsDiff(never.Scores, ref); d < 1e-3 && never.Rank == tc.c.WantRank {
			t.Errorf("%s: two-pass path error %.3g and rank %d: the test matrix is too easy", tc.c.Name, d, never.Rank)
		}
	}
}

// TestLeverageInvariance checks ℓ(XA) = ℓ(X) for an invertible A: leverage depends only on the column
// space.
func TestLeverageInvariance(t *testing.T) {
	sel := testutil.Backend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	n, d := 400, 25
	x := testutil.Synthetic(rng, n, d, testutil.Geometric(d, 1e3), nil)
	a := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
		a.Set(i, i, a.At(i, i)+5) // well conditioned
	}
	var xa mat.Dense
	xa.Mul(mat.NewDense(n, d, x.Data), a)
	xam := &matrixio.Matrix{Rows: n, Cols: d, Data: xa.RawMatrix().Data}
	ctx := context.Background()
	r1, err := leverage.Scores(ctx, sel.Backend, x, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := leverage.Scores(ctx, sel.Backend, xam, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d, i := testutil.MaxAbsDiff(r1.Scores, r2.Scores); d > 1e-9 {
		t.Errorf("max |ℓ(XA) - ℓ(X)| = %.3g at row %d", d, i)
	}
	if r1.Rank != d || r2.Rank != d {
		t.Errorf("ranks %d, %d, want %d", r1.Rank, r2.Rank, d)
	}
}

// TestChunkingDoesNotMatter checks that the chunk size (and the zero padding of the last chunk) does not
// change the result.
func TestChunkingDoesNotMatter(t *testing.T) {
	sel := testutil.Backend(t)
	x := testutil.Synthetic(rand.New(rand.NewPCG(5, 6)), 301, 20, testutil.Geometric(20, 1e5), nil)
	var prev []float64
	for _, c := range []int{0, 7, 100, 301} {
		res, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{ChunkRows: c})
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			if d, i := testutil.MaxAbsDiff(prev, res.Scores); d > 1e-12 {
				t.Errorf("chunk %d: differs by %.3g at row %d", c, d, i)
			}
		}
		prev = res.Scores
	}
}

// TestQRArtefact demonstrates why the seed's method is wrong for rank-deficient X. For a zero column j,
// Householder QR skips the reflector (τ_j = 0), so column j of Q is H_0…H_{j-1}e_j: exactly e_j when
// the columns before it are zero too (MNIST's first pixels are), giving ℓ_j = 1, and a near-unit
// vector concentrated on row j otherwise. The exact method agrees with the SVD.
func TestQRArtefact(t *testing.T) {
	sel := testutil.Backend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	n, d := 200, 10
	x := testutil.Synthetic(rng, n, d, testutil.Geometric(d, 10), nil)
	zero := []int{0, 1, 6}
	for i := 0; i < n; i++ {
		for _, j := range zero {
			x.Data[i*d+j] = 0
		}
	}
	ctx := context.Background()
	qr, err := leverage.Scores(ctx, sel.Backend, x, leverage.Options{Method: leverage.QR})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := leverage.Scores(ctx, sel.Backend, x, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, refRank := svdLeverage(t, x)
	for _, row := range zero {
		if row < 2 && math.Abs(qr.Scores[row]-1) > 1e-12 {
			t.Errorf("qr ℓ[%d] = %v, want the artefact 1", row, qr.Scores[row])
		}
		if qr.Scores[row] < ref[row]+0.5 {
			t.Errorf("qr ℓ[%d] = %v, want an inflated score (SVD: %v)", row, qr.Scores[row], ref[row])
		}
		if math.Abs(ex.Scores[row]-ref[row]) > 1e-9 {
			t.Errorf("exact ℓ[%d] = %v, want the SVD's %v", row, ex.Scores[row], ref[row])
		}
	}
	if got := sum(qr.Scores); math.Abs(got-float64(d)) > 1e-9 {
		t.Errorf("qr Σℓ = %v, want %d (all columns)", got, d)
	}
	if ex.Rank != refRank || refRank != d-len(zero) {
		t.Errorf("exact rank %d, svd %d, want %d", ex.Rank, refRank, d-len(zero))
	}
	if !testutil.HasWarning(ex.Warnings, leverage.ErrRankDeficient) {
		t.Errorf("exact method: no rank-deficiency warning in %v", ex.Warnings)
	}
	// On a full-rank matrix the two methods agree.
	y := testutil.Synthetic(rng, n, d, testutil.Geometric(d, 100), nil)
	qy, _ := leverage.Scores(ctx, sel.Backend, y, leverage.Options{Method: leverage.QR})
	ey, _ := leverage.Scores(ctx, sel.Backend, y, leverage.Options{})
	if d, i := testutil.MaxAbsDiff(qy.Scores, ey.Scores); d > 1e-10 {
		t.Errorf("full rank: qr and exact differ by %.3g at row %d", d, i)
	}
}

// TestLeverageBadInput checks named errors for NaN values and cancellation.
func TestLeverageBadInput(t *testing.T) {
	sel := testutil.Backend(t)
	x := matrixio.NewMatrix(10, 3)
	x.Data[7] = math.NaN()
	_, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{})
	if err == nil || err.Error() != "row 2, column 1 is NaN" {
		t.Errorf("NaN input: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	y := testutil.Synthetic(rand.New(rand.NewPCG(1, 1)), 50, 5, testutil.Geometric(5, 2), nil)
	if _, err := leverage.Scores(ctx, sel.Backend, y, leverage.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

// ridgeDirect is the slow reference: ℓ_i(λ) = x_iᵀ(XᵀX + λI)⁻¹x_i by a gonum Cholesky solve.
func ridgeDirect(t *testing.T, x *matrixio.Matrix, lambda float64) []float64 {
	t.Helper()
	xd := mat.NewDense(x.Rows, x.Cols, x.Data)
	var g mat.SymDense
	g.SymOuterK(1, xd.T())
	for j := 0; j < x.Cols; j++ {
		g.SetSym(j, j, g.At(j, j)+lambda)
	}
	var chol mat.Cholesky
	if !chol.Factorize(&g) {
		t.Fatal("XᵀX + λI not positive definite")
	}
	var sol mat.Dense
	if err := chol.SolveTo(&sol, xd.T()); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, x.Rows)
	for i := range out {
		for j := 0; j < x.Cols; j++ {
			out[i] += xd.At(i, j) * sol.At(j, i)
		}
	}
	return out
}

// TestRidgeLeverage checks ridge leverage against a direct solve of (XᵀX + λI)⁻¹ on small matrices
// (full rank, rank-deficient, column-scaled; both paths), Σℓ(λ) = Σ σ²/(σ²+λ) over the singular values
// of X, and λ → 0 giving the exact scores.
func TestRidgeLeverage(t *testing.T) {
	sel := testutil.Backend(t)
	ctx := context.Background()
	cases := testutil.SynthCases()
	for _, tc := range []testutil.SynthCase{cases[0], cases[4], cases[5], cases[2]} {
		var svd mat.SVD
		svd.Factorize(mat.NewDense(tc.X.Rows, tc.X.Cols, tc.X.Data), mat.SVDNone)
		sv := svd.Values(nil)
		for _, rel := range []float64{1e-6, 1e-2, 1} {
			lambda := rel * sv[0] * sv[0]
			for _, refine := range []leverage.Refinement{leverage.RefineAuto, leverage.RefineAlways} {
				res, err := leverage.Scores(ctx, sel.Backend, tc.X, leverage.Options{Ridge: lambda, Refinement: refine})
				if err != nil {
					t.Fatal(err)
				}
				ref := ridgeDirect(t, tc.X, lambda)
				if d, i := testutil.MaxAbsDiff(res.Scores, ref); d > 1e-9 {
					t.Errorf("%s, λ = %.3g σ₁², refine %s: max |Δℓ| = %.3g at row %d", tc.Name, rel, refine, d, i)
				}
				dof := 0.0
				for _, s := range sv[:tc.WantRank] {
					dof += s * s / (s*s + lambda)
				}
				if got := sum(res.Scores); math.Abs(got-dof) > 1e-8*dof {
					t.Errorf("%s, λ = %.3g σ₁²: Σℓ = %.12f, want Σσ²/(σ²+λ) = %.12f", tc.Name, rel, got, dof)
				}
			}
		}
		exact, _ := leverage.Scores(ctx, sel.Backend, tc.X, leverage.Options{})
		small := sv[tc.WantRank-1]
		tiny, err := leverage.Scores(ctx, sel.Backend, tc.X, leverage.Options{Ridge: 1e-10 * small * small})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := testutil.MaxAbsDiff(exact.Scores, tiny.Scores); d > 1e-8 {
			t.Errorf("%s: λ → 0 differs from the exact scores by %.3g", tc.Name, d)
		}
	}
	if _, err := leverage.Scores(ctx, sel.Backend, cases[0].X, leverage.Options{Ridge: -1}); err == nil {
		t.Error("λ = -1: no error")
	}
	bad := &matrixio.Matrix{Rows: 3, Cols: 2, Data: make([]float64, 5)}
	if _, err := leverage.Scores(ctx, sel.Backend, bad, leverage.Options{}); err == nil || !strings.Contains(err.Error(), "5 values for a 3×2 matrix") {
		t.Errorf("malformed matrix: got %v", err)
	}
}

// TestAccuracyLimit measures where the exact method stops meeting 1e-7 against the SVD, on 600×40
// matrices with geometric singular values (the README quotes the logged errors): asserted up to
// κ = 1e9 (measured: 5.1e-9 at 1e9, 1.6e-7 at 1e10, 5.3e-7 at 1e11, 2.7e-6 at 1e12).
func TestAccuracyLimit(t *testing.T) {
	sel := testutil.Backend(t)
	rng := rand.New(rand.NewPCG(9, 9))
	for _, cond := range []float64{1e9, 1e10, 1e11, 1e12} {
		x := testutil.Synthetic(rng, 600, 40, testutil.Geometric(40, cond), nil)
		ref, refRank := svdLeverage(t, x)
		res, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := testutil.MaxAbsDiff(res.Scores, ref)
		t.Logf("κ = %.0e: max |ℓ − ℓ_svd| = %.2g, rank %d (SVD %d), refined %t", cond, d, res.Rank, refRank, res.Refined)
		if cond <= 1e9 && (d > 1e-7 || res.Rank != refRank) {
			t.Errorf("κ = %.0e: error %.3g, rank %d vs %d", cond, d, res.Rank, refRank)
		}
	}
}

// TestRelTolerance checks a user rank tolerance: singular values at or below RelTolerance·σ_max are
// dropped (the rank counts as numpy's matrix_rank(X, tol) would on the column-equilibrated basis),
// whichever path is taken.
func TestRelTolerance(t *testing.T) {
	sel := testutil.Backend(t)
	rng := rand.New(rand.NewPCG(11, 11))
	x := testutil.Synthetic(rng, 500, 30, testutil.Geometric(30, 1e3), nil) // σ from 1 to 1e-3
	for _, rel := range []float64{1e-2, 1e-1} {
		res, err := leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{RelTolerance: rel})
		if err != nil {
			t.Fatal(err)
		}
		// Reference: the SVD of X with each column scaled by the power of two that brings its norm into
		// [1/2, 1), as the engine equilibrates.
		xs := mat.DenseCopyOf(mat.NewDense(x.Rows, x.Cols, x.Data))
		for j := 0; j < x.Cols; j++ {
			_, e := math.Frexp(mat.Norm(xs.ColView(j), 2))
			for i := 0; i < x.Rows; i++ {
				xs.Set(i, j, xs.At(i, j)*math.Ldexp(1, -e))
			}
		}
		var svd mat.SVD
		svd.Factorize(xs, mat.SVDNone)
		sv := svd.Values(nil)
		want := 0
		for _, s := range sv {
			if s > rel*sv[0] {
				want++
			}
		}
		if res.Rank != want || math.Abs(sum(res.Scores)-float64(want)) > 1e-8 {
			t.Errorf("RelTolerance %g: rank %d (Σℓ %.6f), want %d", rel, res.Rank, sum(res.Scores), want)
		}
	}
}

// TestGramTrace checks Result.GramTrace = Σ x_ij² on a matrix with a zero column and on the same matrix
// at 1e-170 and 1e150, where the Gram matrix is formed from pre-scaled columns.
func TestGramTrace(t *testing.T) {
	sel := testutil.Backend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	x := testutil.RandMatrix(rng, 300, 12)
	for i := 0; i < x.Rows; i++ {
		x.Data[i*x.Cols+3] = 0
	}
	for _, c := range []float64{1, 1e-150, 1e150} {
		m := &matrixio.Matrix{Rows: x.Rows, Cols: x.Cols, Data: make([]float64, len(x.Data))}
		want := 0.0
		for i, v := range x.Data {
			m.Data[i] = v * c
			want += (v * c) * (v * c)
		}
		res, err := leverage.Scores(context.Background(), sel.Backend, m, leverage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.GramTrace-want) > 1e-12*want {
			t.Errorf("scale %g: GramTrace %g, want Σx² = %g", c, res.GramTrace, want)
		}
	}
}
