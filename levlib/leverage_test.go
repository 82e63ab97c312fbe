package levlib_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib"
	"github.com/levstudy/levstudy/levlib/backend"
	"gonum.org/v1/gonum/mat"
)

// testBackend returns the pure-Go backend (the one CI has).
func testBackend(t testing.TB) *backend.Selection {
	t.Helper()
	sel, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// svdLeverage is the slow reference: gonum's thin SVD X = UΣVᵀ, rank r = #{σ > σ_max·max(N,D)·eps}
// (numpy.linalg.matrix_rank's tolerance) and ℓ_i = Σ_{j<r} U_ij².
func svdLeverage(t testing.TB, x *levlib.Matrix) ([]float64, int) {
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

// synthetic returns an n×d matrix U diag(σ) Vᵀ with Haar-like random U, V (QR of Gaussians), the given
// singular values (zeros make it rank-deficient), then columns scaled by colScale[j] (nil: none).
func synthetic(rng *rand.Rand, n, d int, sigma []float64, colScale []float64) *levlib.Matrix {
	orth := func(rows, cols int) *mat.Dense {
		g := mat.NewDense(rows, cols, nil)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				g.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(g)
		var q mat.Dense
		qr.QTo(&q)
		return mat.DenseCopyOf(q.Slice(0, rows, 0, cols))
	}
	u, v := orth(n, d), orth(d, d)
	for j := 0; j < d; j++ {
		for i := 0; i < n; i++ {
			u.Set(i, j, u.At(i, j)*sigma[j])
		}
	}
	var x mat.Dense
	x.Mul(u, v.T())
	m := &levlib.Matrix{Rows: n, Cols: d, Data: make([]float64, n*d)}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			s := 1.0
			if colScale != nil {
				s = colScale[j]
			}
			m.Data[i*d+j] = x.At(i, j) * s
		}
	}
	return m
}

func geometric(d int, cond float64) []float64 {
	s := make([]float64, d)
	for i := range s {
		s[i] = math.Pow(cond, -float64(i)/float64(d-1))
	}
	return s
}

func maxAbsDiff(a, b []float64) (float64, int) {
	m, at := 0.0, -1
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > m || math.IsNaN(d) {
			m, at = d, i
		}
	}
	return m, at
}

func sum(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s
}

type synthCase struct {
	name     string
	x        *levlib.Matrix
	wantRank int
}

func synthCases() []synthCase {
	rng := rand.New(rand.NewPCG(1, 2))
	n, d := 600, 40
	var cases []synthCase
	cases = append(cases, synthCase{"gaussian full rank", synthetic(rng, n, d, geometric(d, 10), nil), d})
	for _, cond := range []float64{1e4, 1e6, 1e8} {
		cases = append(cases, synthCase{fmt.Sprintf("cond=%g", cond), synthetic(rng, n, d, geometric(d, cond), nil), d})
	}
	deficient := geometric(d, 1e3)
	for j := 25; j < d; j++ {
		deficient[j] = 0
	}
	cases = append(cases, synthCase{"rank 25 of 40", synthetic(rng, n, d, deficient, nil), 25})
	scales := make([]float64, d)
	for j := range scales {
		scales[j] = math.Pow(1e6, float64(j)/float64(d-1)) // 1 … 1e6
	}
	cases = append(cases, synthCase{"columns scaled 1..1e6", synthetic(rng, n, d, geometric(d, 100), scales), d})
	cases = append(cases, synthCase{"cond=1e8, columns scaled 1..1e6", synthetic(rng, n, d, geometric(d, 1e8), scales), d})
	cases = append(cases, synthCase{"rank 25, columns scaled", synthetic(rng, n, d, deficient, scales), 25})
	zc := synthetic(rng, n, d, geometric(d, 10), nil)
	for i := 0; i < n; i++ {
		zc.Data[i*d+3], zc.Data[i*d+17] = 0, 0
	}
	cases = append(cases, synthCase{"two zero columns", zc, d - 2})
	// More columns than rows: rank ≤ N, every leverage 1.
	cases = append(cases, synthCase{"wide 30x40", synthetic(rng, 30, 30, geometric(30, 10), nil), 30})
	return cases
}

// TestLeverageMatchesSVD checks the exact method against the slow SVD reference: |Δℓ| ≤ 1e-7 and the
// same rank, on full-rank, ill-conditioned (up to 1e8), rank-deficient and column-scaled (1e6) bases.
func TestLeverageMatchesSVD(t *testing.T) {
	sel := testBackend(t)
	for _, tc := range synthCases() {
		ref, refRank := svdLeverage(t, tc.x)
		if refRank != tc.wantRank {
			t.Fatalf("%s: reference rank %d, constructed %d", tc.name, refRank, tc.wantRank)
		}
		for _, refine := range []levlib.Refinement{levlib.RefineAuto, levlib.RefineAlways} {
			t.Run(tc.name+"/refine="+refine.String(), func(t *testing.T) {
				res, err := levlib.LeverageScores(context.Background(), sel.Backend, tc.x, levlib.LeverageOptions{ChunkRows: 128, Refinement: refine})
				if err != nil {
					t.Fatal(err)
				}
				if res.Rank != refRank {
					t.Errorf("rank %d, want %d", res.Rank, refRank)
				}
				if d, i := maxAbsDiff(res.Scores, ref); d > 1e-7 {
					t.Errorf("max |ℓ - ℓ_svd| = %.3g at row %d (ℓ=%.12f, ref %.12f), want ≤ 1e-7", d, i, res.Scores[i], ref[i])
				} else {
					t.Logf("max |ℓ - ℓ_svd| = %.2g (rank %d, refined %t)", d, res.Rank, res.Refined)
				}
				checkProperties(t, res)
			})
		}
	}
}

// TestPaths checks which path the exact method takes and what the refinement buys: a well-conditioned
// basis and a rank-deficient one with a clean gap (like MNIST RAW) take the two-pass path and match the
// SVD; a basis with condition number 1e8 is refined, and the two-pass path forced on it (RefineNever) is
// off by more than 1e-3 (measured: 3.8e-2 with the first version's unrefined path).
func TestPaths(t *testing.T) {
	sel := testBackend(t)
	cases := synthCases()
	for _, tc := range []struct {
		c          synthCase
		wantRefine bool
	}{{cases[0], false}, {cases[3], true}, {cases[4], false}, {cases[8], false}} {
		ref, _ := svdLeverage(t, tc.c.x)
		auto, err := levlib.LeverageScores(context.Background(), sel.Backend, tc.c.x, levlib.LeverageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if auto.Refined != tc.wantRefine {
			t.Errorf("%s: refined = %t, want %t", tc.c.name, auto.Refined, tc.wantRefine)
		}
		if want := map[bool]int{false: 2, true: 3}[tc.wantRefine]; auto.Passes != want {
			t.Errorf("%s: %d passes, want %d", tc.c.name, auto.Passes, want)
		}
		if d, _ := maxAbsDiff(auto.Scores, ref); d > 1e-7 {
			t.Errorf("%s: error %.3g", tc.c.name, d)
		}
		if !tc.wantRefine {
			continue
		}
		never, err := levlib.LeverageScores(context.Background(), sel.Backend, tc.c.x, levlib.LeverageOptions{Refinement: levlib.RefineNever})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := maxAbsDiff(never.Scores, ref); d < 1e-3 && never.Rank == tc.c.wantRank {
			t.Errorf("%s: two-pass path error %.3g and rank %d: the test matrix is too easy", tc.c.name, d, never.Rank)
		}
	}
}

// checkProperties asserts 0 ≤ ℓ ≤ 1 and Σℓ = rank.
func checkProperties(t *testing.T, res *levlib.LeverageResult) {
	t.Helper()
	for i, l := range res.Scores {
		if l < 0 || l > 1 || math.IsNaN(l) {
			t.Fatalf("ℓ[%d] = %v outside [0, 1]", i, l)
		}
	}
	if s := sum(res.Scores); math.Abs(s-float64(res.Rank)) > 1e-8*float64(res.Rank+1) {
		t.Errorf("Σℓ = %.12f, want rank %d", s, res.Rank)
	}
}

// TestLeverageInvariance checks ℓ(XA) = ℓ(X) for an invertible A: leverage depends only on the column
// space.
func TestLeverageInvariance(t *testing.T) {
	sel := testBackend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	n, d := 400, 25
	x := synthetic(rng, n, d, geometric(d, 1e3), nil)
	a := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
		a.Set(i, i, a.At(i, i)+5) // well conditioned
	}
	var xa mat.Dense
	xa.Mul(mat.NewDense(n, d, x.Data), a)
	xam := &levlib.Matrix{Rows: n, Cols: d, Data: xa.RawMatrix().Data}
	ctx := context.Background()
	r1, err := levlib.LeverageScores(ctx, sel.Backend, x, levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := levlib.LeverageScores(ctx, sel.Backend, xam, levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d, i := maxAbsDiff(r1.Scores, r2.Scores); d > 1e-9 {
		t.Errorf("max |ℓ(XA) - ℓ(X)| = %.3g at row %d", d, i)
	}
	if r1.Rank != d || r2.Rank != d {
		t.Errorf("ranks %d, %d, want %d", r1.Rank, r2.Rank, d)
	}
}

// TestChunkingDoesNotMatter checks that the chunk size (and the zero padding of the last chunk) does not
// change the result.
func TestChunkingDoesNotMatter(t *testing.T) {
	sel := testBackend(t)
	x := synthetic(rand.New(rand.NewPCG(5, 6)), 301, 20, geometric(20, 1e5), nil)
	var prev []float64
	for _, c := range []int{0, 7, 100, 301} {
		res, err := levlib.LeverageScores(context.Background(), sel.Backend, x, levlib.LeverageOptions{ChunkRows: c})
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			if d, i := maxAbsDiff(prev, res.Scores); d > 1e-12 {
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
	sel := testBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	n, d := 200, 10
	x := synthetic(rng, n, d, geometric(d, 10), nil)
	zero := []int{0, 1, 6}
	for i := 0; i < n; i++ {
		for _, j := range zero {
			x.Data[i*d+j] = 0
		}
	}
	ctx := context.Background()
	qr, err := levlib.LeverageScores(ctx, sel.Backend, x, levlib.LeverageOptions{Method: levlib.QR})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := levlib.LeverageScores(ctx, sel.Backend, x, levlib.LeverageOptions{})
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
	if !hasWarning(ex.Warnings, levlib.ErrRankDeficient) {
		t.Errorf("exact method: no rank-deficiency warning in %v", ex.Warnings)
	}
	// On a full-rank matrix the two methods agree.
	y := synthetic(rng, n, d, geometric(d, 100), nil)
	qy, _ := levlib.LeverageScores(ctx, sel.Backend, y, levlib.LeverageOptions{Method: levlib.QR})
	ey, _ := levlib.LeverageScores(ctx, sel.Backend, y, levlib.LeverageOptions{})
	if d, i := maxAbsDiff(qy.Scores, ey.Scores); d > 1e-10 {
		t.Errorf("full rank: qr and exact differ by %.3g at row %d", d, i)
	}
}

func hasWarning(ws []error, target error) bool {
	for _, w := range ws {
		if errors.Is(w, target) {
			return true
		}
	}
	return false
}

// TestLeverageBadInput checks named errors for NaN values and cancellation.
func TestLeverageBadInput(t *testing.T) {
	sel := testBackend(t)
	x := levlib.NewMatrix(10, 3)
	x.Data[7] = math.NaN()
	_, err := levlib.LeverageScores(context.Background(), sel.Backend, x, levlib.LeverageOptions{})
	if err == nil || err.Error() != "row 2, column 1 is NaN" {
		t.Errorf("NaN input: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	y := synthetic(rand.New(rand.NewPCG(1, 1)), 50, 5, geometric(5, 2), nil)
	if _, err := levlib.LeverageScores(ctx, sel.Backend, y, levlib.LeverageOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

// ridgeDirect is the slow reference: ℓ_i(λ) = x_iᵀ(XᵀX + λI)⁻¹x_i by a gonum Cholesky solve.
func ridgeDirect(t *testing.T, x *levlib.Matrix, lambda float64) []float64 {
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
	sel := testBackend(t)
	ctx := context.Background()
	cases := synthCases()
	for _, tc := range []synthCase{cases[0], cases[4], cases[5], cases[2]} {
		var svd mat.SVD
		svd.Factorize(mat.NewDense(tc.x.Rows, tc.x.Cols, tc.x.Data), mat.SVDNone)
		sv := svd.Values(nil)
		for _, rel := range []float64{1e-6, 1e-2, 1} {
			lambda := rel * sv[0] * sv[0]
			for _, refine := range []levlib.Refinement{levlib.RefineAuto, levlib.RefineAlways} {
				res, err := levlib.LeverageScores(ctx, sel.Backend, tc.x, levlib.LeverageOptions{Ridge: lambda, Refinement: refine})
				if err != nil {
					t.Fatal(err)
				}
				ref := ridgeDirect(t, tc.x, lambda)
				if d, i := maxAbsDiff(res.Scores, ref); d > 1e-9 {
					t.Errorf("%s, λ = %.3g σ₁², refine %s: max |Δℓ| = %.3g at row %d", tc.name, rel, refine, d, i)
				}
				dof := 0.0
				for _, s := range sv[:tc.wantRank] {
					dof += s * s / (s*s + lambda)
				}
				if got := sum(res.Scores); math.Abs(got-dof) > 1e-8*dof {
					t.Errorf("%s, λ = %.3g σ₁²: Σℓ = %.12f, want Σσ²/(σ²+λ) = %.12f", tc.name, rel, got, dof)
				}
			}
		}
		exact, _ := levlib.LeverageScores(ctx, sel.Backend, tc.x, levlib.LeverageOptions{})
		small := sv[tc.wantRank-1]
		tiny, err := levlib.LeverageScores(ctx, sel.Backend, tc.x, levlib.LeverageOptions{Ridge: 1e-10 * small * small})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := maxAbsDiff(exact.Scores, tiny.Scores); d > 1e-8 {
			t.Errorf("%s: λ → 0 differs from the exact scores by %.3g", tc.name, d)
		}
	}
	if _, err := levlib.LeverageScores(ctx, sel.Backend, cases[0].x, levlib.LeverageOptions{Ridge: -1}); err == nil {
		t.Error("λ = -1: no error")
	}
	bad := &levlib.Matrix{Rows: 3, Cols: 2, Data: make([]float64, 5)}
	if _, err := levlib.LeverageScores(ctx, sel.Backend, bad, levlib.LeverageOptions{}); err == nil || !strings.Contains(err.Error(), "5 values for a 3×2 matrix") {
		t.Errorf("malformed matrix: got %v", err)
	}
}

// TestAccuracyLimit measures where the exact method stops meeting 1e-7 against the SVD, on 600×40
// matrices with geometric singular values (the README quotes the logged errors): asserted up to
// κ = 1e9 (measured: 5.1e-9 at 1e9, 1.6e-7 at 1e10, 5.3e-7 at 1e11, 2.7e-6 at 1e12).
func TestAccuracyLimit(t *testing.T) {
	sel := testBackend(t)
	rng := rand.New(rand.NewPCG(9, 9))
	for _, cond := range []float64{1e9, 1e10, 1e11, 1e12} {
		x := synthetic(rng, 600, 40, geometric(40, cond), nil)
		ref, refRank := svdLeverage(t, x)
		res, err := levlib.LeverageScores(context.Background(), sel.Backend, x, levlib.LeverageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := maxAbsDiff(res.Scores, ref)
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
	sel := testBackend(t)
	rng := rand.New(rand.NewPCG(11, 11))
	x := synthetic(rng, 500, 30, geometric(30, 1e3), nil) // σ from 1 to 1e-3
	for _, rel := range []float64{1e-2, 1e-1} {
		res, err := levlib.LeverageScores(context.Background(), sel.Backend, x, levlib.LeverageOptions{RelTolerance: rel})
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
