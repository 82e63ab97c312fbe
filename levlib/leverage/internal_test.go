package leverage

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"gonum.org/v1/gonum/mat"
)

// streamOnly hides a *Matrix's row view, so the chunker goes through ReadRows as for a file.
type streamOnly struct{ m *matrixio.Matrix }

func (s streamOnly) Dims() (int, int) { return s.m.Dims() }

func (s streamOnly) ReadRows(dst []float64, lo, hi int) error { return s.m.ReadRows(dst, lo, hi) }

// TestGramPass compares the blocked Gram pass (three column blocks at ≥ 512 columns, chunks with a
// zero-padded last one, a streamed source) with gonum's XᵀX.
func TestGramPass(t *testing.T) {
	b := testutil.GoBackend(t)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, d := range []int{7, 530} {
		x := testutil.RandMatrix(rng, 333, d)
		var want mat.SymDense
		want.SymOuterK(1, mat.NewDense(x.Rows, d, x.Data).T())
		for _, src := range []matrixio.RowSource{x, streamOnly{x}} {
			ch := gomlxutil.NewChunker(b, src, 100)
			g, err := gomlxutil.GramPass(context.Background(), b, ch, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := maxSymDiff(g, &want); diff > 1e-10 {
				t.Errorf("d=%d %T: Gram differs by %.3g", d, src, diff)
			}
		}
	}
}

// TestZeroColumns checks that the Gram pass skips an in-memory source's all-zero columns and that the
// scores are those of the matrix without them (and of the same matrix streamed, which scans nothing).
func TestZeroColumns(t *testing.T) {
	b := testutil.GoBackend(t)
	rng := rand.New(rand.NewPCG(2, 2))
	x := testutil.RandMatrix(rng, 300, 12)
	zero := []int{0, 5, 11}
	for i := 0; i < x.Rows; i++ {
		for _, j := range zero {
			x.Data[i*x.Cols+j] = 0
		}
	}
	x.Data[299*x.Cols+5] = 1e-300 // nonzero in the last row only: kept
	if got, want := nonzeroColumns(x), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("nonzeroColumns = %v, want %v", got, want)
	}
	if got := nonzeroColumns(testutil.RandMatrix(rng, 50, 8)); got != nil {
		t.Errorf("dense matrix: nonzeroColumns = %v, want nil", got)
	}
	if got := nonzeroColumns(streamOnly{x}); got != nil {
		t.Errorf("streamed source: nonzeroColumns = %v, want nil (no scan)", got)
	}
	x.Data[299*x.Cols+5] = 0
	// A matrix of zeros, in memory or streamed: rank 0, scores 0, a warning (no Gram pass of no columns).
	for _, src := range []matrixio.RowSource{matrixio.NewMatrix(50, 6), streamOnly{matrixio.NewMatrix(50, 6)}} {
		res, err := Scores(context.Background(), b, src, Options{})
		if err != nil || res.Rank != 0 || len(res.Scores) != 50 || slices.Max(res.Scores) != 0 || len(res.Warnings) != 1 {
			t.Errorf("%T of zeros: %v, %+v", src, err, res)
		}
	}
	nan := matrixio.NewMatrix(4, 3)
	nan.Data[7] = math.NaN()
	if got := nonzeroColumns(nan); !slices.Equal(got, []int{1}) {
		t.Errorf("NaN column: nonzeroColumns = %v, want [1]", got)
	}
	dropped := matrixio.NewMatrix(x.Rows, x.Cols-len(zero))
	for i := 0; i < x.Rows; i++ {
		k := 0
		for j := 0; j < x.Cols; j++ {
			if !slices.Contains(zero, j) {
				dropped.Data[i*dropped.Cols+k] = x.Data[i*x.Cols+j]
				k++
			}
		}
	}
	ctx := context.Background()
	opts := Options{ChunkRows: 70}
	want, err := Scores(ctx, b, dropped, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []matrixio.RowSource{x, streamOnly{x}} {
		got, err := Scores(ctx, b, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rank != 9 {
			t.Errorf("%T: rank %d, want 9", src, got.Rank)
		}
		for i := range want.Scores {
			if d := math.Abs(got.Scores[i] - want.Scores[i]); d > 1e-12 {
				t.Fatalf("%T: row %d: %.17g vs %.17g without the zero columns", src, i, got.Scores[i], want.Scores[i])
			}
		}
	}
}

// TestGramPassTimes checks (XW)ᵀ(XW) against gonum, with columns kept and scaled by the chunker.
func TestGramPassTimes(t *testing.T) {
	b := testutil.GoBackend(t)
	rng := rand.New(rand.NewPCG(2, 2))
	x := testutil.RandMatrix(rng, 205, 9)
	cols, scale := []int{8, 1, 4, 5}, []float64{0.5, 2, 4, 0.25}
	w := mat.NewDense(4, 3, nil)
	for i := 0; i < 4; i++ {
		for j := 0; j < 3; j++ {
			w.Set(i, j, rng.NormFloat64())
		}
	}
	xs := mat.NewDense(205, 4, nil)
	for i := 0; i < 205; i++ {
		for k, c := range cols {
			xs.Set(i, k, x.Data[i*9+c]*scale[k])
		}
	}
	var y mat.Dense
	y.Mul(xs, w)
	var want mat.SymDense
	want.SymOuterK(1, y.T())
	ch := gomlxutil.NewChunker(b, x, 64)
	ch.Cols, ch.Scale = cols, scale
	g, err := gomlxutil.GramPassTimes(context.Background(), b, ch, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := maxSymDiff(g, &want); diff > 1e-11 {
		t.Errorf("(XW)ᵀ(XW) differs by %.3g", diff)
	}
}

func maxSymDiff(a, b *mat.SymDense) float64 {
	m := 0.0
	for i := 0; i < a.SymmetricDim(); i++ {
		for j := i; j < a.SymmetricDim(); j++ {
			m = math.Max(m, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return m
}

// TestProjectPass checks the scores, the ridge weights and the tail Gram matrix of a projection pass,
// and that the block-triangular product equals the dense one.
func TestProjectPass(t *testing.T) {
	b := testutil.GoBackend(t)
	rng := rand.New(rand.NewPCG(3, 3))
	const n, w, lead = 150, 300, 280
	x := testutil.RandMatrix(rng, n, w)
	m := mat.NewDense(w, w, nil) // [[T11, T12], [0, I]], T11 upper triangular
	for i := 0; i < w; i++ {
		for j := i; j < w; j++ {
			if i < lead || i == j {
				m.Set(i, j, rng.NormFloat64())
			}
		}
		if i >= lead {
			m.Set(i, i, 1)
		}
	}
	wts := make([]float64, lead)
	for j := range wts {
		wts[j] = rng.Float64()
	}
	var q mat.Dense
	q.Mul(mat.NewDense(n, w, x.Data), m)
	want := make([]float64, n)
	wantW := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < lead; j++ {
			want[i] += q.At(i, j) * q.At(i, j)
			wantW[i] += q.At(i, j) * q.At(i, j) * wts[j]
		}
	}
	var h mat.SymDense
	h.SymOuterK(1, q.Slice(0, n, lead, w).T())
	for _, tc := range []struct {
		name string
		p    projection
		want []float64
	}{
		{"triangular", projection{M: m, Lead: lead, Triangular: true, TailGram: true}, want},
		{"dense", projection{M: m, Lead: lead, TailGram: true}, want},
		{"weighted", projection{M: m, Lead: lead, Weights: wts}, wantW},
	} {
		ch := gomlxutil.NewChunker(b, x, 64)
		got, gh, err := projectPass(context.Background(), b, ch, tc.p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-9*tc.want[i] {
				t.Fatalf("%s: row %d: %v, want %v", tc.name, i, got[i], tc.want[i])
			}
		}
		if tc.p.TailGram {
			if diff := maxSymDiff(gh, &h); diff > 1e-9 {
				t.Errorf("%s: tail Gram differs by %.3g", tc.name, diff)
			}
		}
	}
}

// TestEquilibrate checks that zero columns are dropped exactly and the others scaled by powers of two to
// norms in [1/2, 1).
func TestEquilibrate(t *testing.T) {
	g := mat.NewSymDense(4, []float64{
		9, 1, 0, 2,
		1, 1e-12, 0, 0,
		0, 0, 0, 0,
		2, 0, 0, 1e6,
	})
	e := equilibrate(g, nil)
	if len(e.Keep) != 3 || e.Keep[0] != 0 || e.Keep[1] != 1 || e.Keep[2] != 3 {
		t.Fatalf("kept %v, want [0 1 3]", e.Keep)
	}
	gs := e.scaled(g, xslices.Iota(3))
	for k := range e.Keep {
		if _, exp := math.Frexp(e.Scale[k]); e.Scale[k] != math.Ldexp(0.5, exp) {
			t.Errorf("scale %v is not a power of two", e.Scale[k])
		}
		if v := gs.At(k, k); v < 0.25 || v >= 1 {
			t.Errorf("scaled squared norm %v outside [1/4, 1)", v)
		}
	}
}

// TestPivotedCholesky checks PᵀG̃P = UᵀU on a rank-deficient PSD matrix, the rank, and that the
// projection factor T makes X̃P·T = [Q, R_b] with Q orthonormal and R_b ≈ 0.
func TestPivotedCholesky(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n, d, r = 200, 12, 8
	base := testutil.RandMatrix(rng, n, r)
	mix := testutil.RandMatrix(rng, r, d)
	var xd mat.Dense
	xd.Mul(mat.NewDense(n, r, base.Data), mat.NewDense(r, d, mix.Data)) // rank 8 of 12
	var g mat.SymDense
	g.SymOuterK(1, xd.T())
	f, err := pivotedCholesky(&g, cholEta*g.At(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if f.Rank != r {
		t.Fatalf("rank %d, want %d", f.Rank, r)
	}
	xp := mat.NewDense(n, d, nil)
	for k, p := range f.Piv {
		for i := 0; i < n; i++ {
			xp.Set(i, k, xd.At(i, p))
		}
	}
	var qr mat.Dense
	qr.Mul(xp, f.T)
	var qtq mat.Dense
	qtq.Mul(qr.Slice(0, n, 0, r).T(), qr.Slice(0, n, 0, r))
	for i := 0; i < r; i++ {
		for j := 0; j < r; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(qtq.At(i, j)-want) > 1e-10 {
				t.Fatalf("QᵀQ[%d,%d] = %v", i, j, qtq.At(i, j))
			}
		}
	}
	if nb := mat.Norm(qr.Slice(0, n, r, d), 2); nb > 1e-9*mat.Norm(&xd, 2) {
		t.Errorf("residual of the dropped columns %.3g, want ≈ 0", nb)
	}
	if f.Cond < 1 || math.IsInf(f.Cond, 0) {
		t.Errorf("condition estimate %v", f.Cond)
	}
}

// TestRefineFactor checks that the refined path's M makes X̃M orthonormal on an ill-conditioned,
// rank-deficient matrix and that the singular values match gonum's SVD.
func TestRefineFactor(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, d = 300, 10
	x := testutil.RandMatrix(rng, n, d)
	for i := 0; i < n; i++ {
		x.Data[i*d+9] = x.Data[i*d+3] * 1e-3 // dependent column
		x.Data[i*d+5] *= 1e-7                // tiny column
	}
	xd := mat.NewDense(n, d, x.Data)
	var g mat.SymDense
	g.SymOuterK(1, xd.T())
	f, err := newRefine(&g)
	if err != nil {
		t.Fatal(err)
	}
	var y mat.Dense
	y.Mul(xd, f.W1)
	var g2 mat.SymDense
	g2.SymOuterK(1, y.T())
	m, sv, rank, _, err := f.finish(&g2, func(s float64) float64 { return s * float64(n) * eps64 })
	if err != nil {
		t.Fatal(err)
	}
	var svd mat.SVD
	svd.Factorize(xd, mat.SVDNone)
	ref := svd.Values(nil)
	if rank != d-1 {
		t.Errorf("rank %d, want %d", rank, d-1)
	}
	for i := 0; i < rank; i++ {
		if math.Abs(sv[i]-ref[i]) > 1e-8*ref[0] {
			t.Errorf("σ_%d = %v, SVD %v", i, sv[i], ref[i])
		}
	}
	var q, qtq mat.Dense
	q.Mul(xd, m)
	qtq.Mul(q.T(), &q)
	for i := 0; i < rank; i++ {
		for j := 0; j < rank; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(qtq.At(i, j)-want) > 1e-8 {
				t.Fatalf("QᵀQ[%d,%d] = %v", i, j, qtq.At(i, j))
			}
		}
	}
}
