package leverage

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/progress"
	"gonum.org/v1/gonum/mat"
)

// Method selects how leverage scores are computed.
type Method int

const (
	// Exact is the rank-aware method (the default): ℓ_i = ‖U_r(i,:)‖² for the rank-r column space.
	Exact Method = iota
	// QR is the seed notebook's method: thin Householder QR X = QR and ℓ_i = ‖Q(i,:)‖², which treats
	// every column as independent and is wrong for rank-deficient X.
	QR
)

// String returns "exact" or "qr".
func (m Method) String() string {
	switch m {
	case Exact:
		return "exact"
	case QR:
		return "qr"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// ParseMethod parses "exact" or "qr".
func ParseMethod(s string) (Method, error) {
	switch s {
	case "exact", "":
		return Exact, nil
	case "qr":
		return QR, nil
	}
	return 0, fmt.Errorf("unknown leverage method %q (want exact or qr)", s)
}

// Options configures Scores. The zero value is the exact method with automatic chunks,
// numpy's rank tolerance, no ridge and no progress reports.
type Options struct {
	// Method is Exact (zero value) or QR.
	Method Method
	// ChunkRows is the number of rows per backend call; 0 picks about 48 MiB of float64 per chunk.
	ChunkRows int
	// RelTolerance is the rank tolerance relative to the largest singular value: singular values
	// σ_i ≤ RelTolerance·σ_max count as zero. 0 means numpy.linalg.matrix_rank's max(N, D)·eps64.
	RelTolerance float64
	// Refinement selects the exact method's path (see Scores). The zero value, RefineAuto,
	// takes the two-pass path when its accuracy is certified and refines otherwise.
	Refinement Refinement
	// Ridge is λ ≥ 0 of ridge leverage ℓ_i(λ) = x_iᵀ(XᵀX + λI)⁻¹x_i (Exact only); 0 gives the exact,
	// rank-aware scores.
	Ridge float64
	// progress.Report, if not nil, is called after each chunk.
	Progress func(progress.Report)
}

// Refinement selects the path of the exact method.
type Refinement int

const (
	// RefineAuto takes the two-pass path when the pivoted Cholesky factor is well conditioned, its
	// smallest kept singular value is above the rank tolerance and the dropped directions are certified
	// below it, and refines otherwise.
	RefineAuto Refinement = iota
	// RefineAlways always takes the refined (CholeskyQR2) path.
	RefineAlways
	// RefineNever always takes the two-pass path without checks (for measurements only: ill-conditioned
	// bases then get wrong scores).
	RefineNever
)

// String returns "auto", "always" or "never".
func (r Refinement) String() string {
	if r < RefineAuto || r > RefineNever {
		return fmt.Sprintf("Refinement(%d)", int(r))
	}
	return [...]string{"auto", "always", "never"}[r]
}

// Result holds the leverage scores of a basis.
type Result struct {
	// Scores has one leverage score per row, each in [0, 1] (values above 1 by rounding are clamped).
	Scores []float64
	// Rows and Cols are N and D.
	Rows, Cols int
	// Rank is the numerical rank r (Exact) or min(N, D) (QR, which does not detect rank).
	Rank int
	// SingularValues of X·S in decreasing order, where S scales each column to unit norm by a power of
	// two, so that neither the rank nor the scores depend on the features' units (the refined path
	// only: the two-pass path skips the eigendecomposition and reports the three values below).
	SingularValues []float64
	// GramTrace is trace(XᵀX) = Σ_i ‖x_i‖² (Exact; clamped at math.MaxFloat64), the scale of a ridge λ:
	// trace/D is the mean eigenvalue of XᵀX.
	GramTrace float64
	// SigmaMax is σ_1 of X·S.
	SigmaMax float64
	// Tolerance is the absolute singular value threshold used for the rank (Exact only).
	Tolerance float64
	// SigmaRank and SigmaNext bound the singular values on both sides of the rank cut-off: σ_r ≥
	// SigmaRank and σ_{r+1} ≤ SigmaNext (equal to σ_r, σ_{r+1} on the refined path; 0 when r = min(N,D)).
	SigmaRank, SigmaNext float64
	// Method used.
	Method Method
	// Refined reports whether the exact method took the refined path; Passes counts the passes over X.
	Refined bool
	Passes  int
	// Ridge is the λ of ridge leverage (0: exact scores); then Σℓ = Σ σ_j²/(σ_j² + λ).
	Ridge float64
	// NearOne counts the rows with ℓ > 0.99: rows that alone span a direction of the column space. A
	// top-k selection of up to NearOne rows is decided by ties near 1.
	NearOne int
	// Warnings lists problems that do not stop the analysis (rank deficiency, an ill-determined rank,
	// rows with ℓ ≈ 1).
	Warnings []error
}

// MaxCols is the largest number of columns D that Scores accepts: it keeps a few D×D float64 matrices
// (the Gram matrix and its factors, 8·D² bytes each: 2 GiB at D = 16384) in memory, whatever N is.
const MaxCols = matrixio.MaxCols

// ErrRankDeficient is wrapped by the warning that reports a rank-deficient basis.
var ErrRankDeficient = errors.New("rank-deficient basis")

// Thresholds of the two-pass path.
const (
	// cholEta stops pivoted Cholesky when the largest remaining squared column norm (of columns scaled
	// to unit norm) is ≤ cholEta: far above the Gram matrix's rounding (≈ D·eps·λ_max) and far below
	// any direction the fast path keeps.
	cholEta = 1e-10
	// maxFastCond is the largest 1-norm condition estimate of the pivoted Cholesky factor the two-pass
	// path accepts: its scores are off by about eps·κ² ≤ 2e-8.
	maxFastCond = 1e4
	// nearOne is the leverage above which a row counts as NearOne.
	nearOne = 0.99
)

// Scores returns the statistical leverage scores of the rows of the N×D matrix x:
//
//	ℓ_i = ‖U_r(i,:)‖² = (X (XᵀX)⁺ Xᵀ)_ii,   0 ≤ ℓ_i ≤ 1,   Σ_i ℓ_i = r = rank(X),
//
// where U_r is an orthonormal basis of the column space of X (Drineas, Magdon-Ismail, Mahoney &
// Woodruff, "Fast approximation of matrix coherence and statistical leverage", JMLR 13, 2012), or with
// opts.Ridge = λ > 0 the ridge leverage ℓ_i(λ) = x_iᵀ(XᵀX + λI)⁻¹x_i (Alaoui & Mahoney, "Fast
// randomized kernel methods with statistical guarantees", NeurIPS 2015).
//
// x is read in row chunks (a RowSource: an in-memory *Matrix, a .npy file, …), so memory beyond one
// chunk is O(D²) whatever N is. Passes over X run as float64 GoMLX graphs on backend b; only D×D
// matrices are factorized on the host (gonum). The Exact method:
//
//  1. Gram pass: G = XᵀX (every value checked finite; an in-memory X's all-zero columns are skipped).
//     Zero columns are dropped (exactly: G_jj = 0) and the others scaled by powers of two to unit norm, G̃ = SGS, so the rank and scores do not
//     depend on the features' units.
//  2. Pivoted Cholesky PᵀG̃P = UᵀU (LAPACK Dpstrf) stopped at rank r when the remaining diagonal is
//     ≤ 1e-10. Projection pass: [Q, R_b] = X̃P·[[U11⁻¹, −U11⁻¹U12], [0, I]], ℓ_i = ‖Q(i,:)‖², and
//     H = R_bᵀR_b, the Gram matrix of the residual of the dropped columns. The result stands when
//     U11 is well conditioned (1-norm estimate ≤ 1e4, so ℓ is off by ≤ eps·κ² ≈ 2e-8), its lower
//     bound on σ_r(X̃) is above tol (else the rank is ill-determined there), and ‖R_b‖₂ ≤ tol certifies σ_{r+1}(X̃) ≤ tol (Eckart–Young), tol = σ_max·max(N,D)·eps64 being
//     numpy.linalg.matrix_rank's tolerance. MNIST RAW (rank 713 of 784) takes this path.
//  3. Otherwise the refined path (CholeskyQR2 with eigendecompositions, see refineFactor): a Gram
//     pass of Y = X̃W₁, the SVD of the D×D factor for the singular values and the rank, and a
//     projection pass ℓ_i = ‖X̃M(i,:)‖² with X̃M = U_r.
//
// Accuracy, measured by the tests against a float64 SVD: |Δℓ| ≤ 1e-7 on MNIST RAW and on synthetic
// matrices with condition numbers up to 1e8 and column scales over 1e6. Beyond κ ≈ 1e10, or when
// singular values lie within a factor ~100 of the tolerance (the rank is then ill-determined, and a
// warning says so), the scores degrade.
//
// The QR method computes the thin Householder QR on the host (gonum LAPACK Dgeqrf/Dorgqr, float64,
// without forming the N×N Q; x is read into memory) and ℓ_i = ‖Q(i,:)‖². For a rank-deficient X it is
// wrong: a zero column j makes column j of Q equal e_j, so row j gets leverage 1.
//
// Units: columns whose largest |x| lies outside 2^±400 (about 1e±120) are first scaled by powers of
// two (an extra Gram pass), so that no square or sum under- or overflows: the scores are the same over
// the whole float64 range, subnormal columns included (checked against numpy's SVD of the
// column-equilibrated X at scales from 1e-320 to 1e300). Ordinary data takes exactly the path it
// took before, bit for bit.
//
// A NaN or ±Inf in x is an error naming its row and column, as is D > MaxCols. ctx is checked between
// chunks (chunks are capped at about 2³³ multiply-adds, seconds each), and host factorizations are
// abandoned when ctx is done (they finish in the background); the QR method cannot be interrupted.
func Scores(ctx context.Context, b compute.Backend, x matrixio.RowSource, opts Options) (*Result, error) {
	n, d := x.Dims()
	if n <= 0 || d <= 0 {
		return nil, fmt.Errorf("empty matrix (%d×%d)", n, d)
	}
	if d > MaxCols {
		return nil, fmt.Errorf("%d columns, at most %d are supported (the D×D Gram matrix alone needs %.1f GiB)",
			d, MaxCols, float64(d)*float64(d)*8/(1<<30))
	}
	if m, ok := x.(*matrixio.Matrix); ok { // its rows are read in place
		if err := m.CheckShape(); err != nil {
			return nil, err
		}
	}
	if opts.Refinement < RefineAuto || opts.Refinement > RefineNever {
		return nil, fmt.Errorf("unknown refinement %v", opts.Refinement)
	}
	if opts.Ridge < 0 || math.IsNaN(opts.Ridge) || math.IsInf(opts.Ridge, 0) {
		return nil, fmt.Errorf("ridge λ = %v, want a finite λ ≥ 0", opts.Ridge)
	}
	var res *Result
	var err error
	switch opts.Method {
	case Exact:
		res, err = exactLeverage(ctx, b, x, opts)
	case QR:
		if opts.Ridge != 0 {
			return nil, errors.New("ridge leverage needs the exact method")
		}
		res, err = qrScores(ctx, x, opts)
	default:
		return nil, fmt.Errorf("unknown leverage method %v", opts.Method)
	}
	if err != nil {
		return nil, err
	}
	res.Rows, res.Cols = n, d
	for _, s := range res.Scores {
		if s > nearOne {
			res.NearOne++
		}
	}
	if res.NearOne > 0 {
		res.Warnings = append(res.Warnings, fmt.Errorf("%d rows have leverage > %g: each alone spans a direction, so a top-k with k ≤ %d is decided by ties near 1",
			res.NearOne, nearOne, res.NearOne))
	}
	return res, nil
}

// leverageRun is one exact computation: the source, its chunker, the options and progress.
type leverageRun struct {
	ctx   context.Context
	b     compute.Backend
	src   matrixio.RowSource
	opts  Options
	n, d  int
	stage int
}

// maxChunkFlops caps the multiply-adds of one chunk of a pass (rows·w² for w kept columns), so that
// ctx, checked between chunks, is looked at every few seconds even for the widest bases: 2³³ takes
// about 4 s on 2 cores. At w = 784 the cap (13,975 rows) is above the default chunk (8,023 rows), so
// MNIST's passes are unchanged; at w = 16384 it gives 32-row chunks.
const maxChunkFlops = 1 << 33

// chunkRows returns the rows per chunk of a pass over w columns (the source's d for the byte bound):
// opts.ChunkRows if set, else the default bound, lowered to maxChunkFlops.
func (r *leverageRun) chunkRows(w int) int {
	rows := gomlxutil.ChunkRows(r.n, max(w, 1), r.opts.ChunkRows)
	if r.opts.ChunkRows > 0 {
		return rows
	}
	if capRows := max(1, maxChunkFlops/(w*w)); capRows < rows {
		return gomlxutil.ChunkRows(r.n, w, capRows)
	}
	return rows
}

// pass returns a chunker over the source and a tick that reports the pass's progress.
func (r *leverageRun) pass(name string, cols []int, scale []float64) (*gomlxutil.Chunker, func()) {
	ch := gomlxutil.NewChunker(r.b, r.src, r.opts.ChunkRows)
	ch.Cols, ch.Scale = cols, scale
	if r.opts.ChunkRows <= 0 {
		if w := ch.Width(); max(1, maxChunkFlops/(w*w)) < ch.Rows {
			ch.Rows = r.chunkRows(w)
		}
	}
	r.stage++
	stage, done := fmt.Sprintf("leverage pass %d: %s", r.stage, name), 0
	return ch, func() {
		done++
		if r.opts.Progress != nil {
			r.opts.Progress(progress.Report{Stage: stage, Done: done, Total: ch.Chunks()})
		}
	}
}

// tol returns the absolute rank tolerance for σ_max.
func (r *leverageRun) tol(sigmaMax float64) float64 {
	rel := r.opts.RelTolerance
	if rel <= 0 {
		rel = float64(max(r.n, r.d)) * eps64
	}
	return sigmaMax * rel
}

// gramTrace returns trace(XᵀX) from the Gram matrix g of X·diag(2^−pre_j) (pre nil: of X), clamped
// at math.MaxFloat64 so that it stays a JSON number.
func gramTrace(g *mat.SymDense, pre []int) float64 {
	t := 0.0
	for j := range g.SymmetricDim() {
		v := g.At(j, j)
		if pre != nil {
			v = math.Ldexp(v, 2*pre[j])
		}
		t += v
	}
	return min(t, math.MaxFloat64)
}

func exactLeverage(ctx context.Context, b compute.Backend, x matrixio.RowSource, opts Options) (*Result, error) {
	r := &leverageRun{ctx: ctx, b: b, src: x, opts: opts}
	r.n, r.d = x.Dims()
	nonzero := nonzeroColumns(x)
	if nonzero != nil && len(nonzero) == 0 {
		return allZero(r.n, r.d, opts.Ridge), nil
	}
	ch, tick := r.pass("Gram", nonzero, nil)
	ch.CheckFinite = true
	ch.MaxAbs = make([]float64, ch.Width())
	g, err := gomlxutil.GramPass(ctx, b, ch, tick)
	if err != nil {
		return nil, err
	}
	if nonzero != nil {
		g = expandGram(g, nonzero, r.d)
	}
	passes := 1
	maxAbs := ch.MaxAbs
	if nonzero != nil {
		maxAbs = make([]float64, r.d)
		for k, j := range nonzero {
			maxAbs[j] = ch.MaxAbs[k]
		}
	}
	pre := prescaleExponents(maxAbs)
	if pre != nil {
		// Columns of extreme scale: form G again from X·diag(2^−e_j), each column's max |x| in [1/2, 1).
		var cols []int
		for j, m := range maxAbs {
			if m > 0 {
				cols = append(cols, j)
			}
		}
		if len(cols) == 0 {
			return allZero(r.n, r.d, opts.Ridge), nil
		}
		scale, scale2 := make([]float64, len(cols)), make([]float64, len(cols))
		for k, j := range cols {
			scale[k], scale2[k] = pow2Neg(pre[j])
		}
		ch, tick := r.pass("Gram of the rescaled columns", cols, scale)
		ch.Scale2 = scale2
		g0, err := gomlxutil.GramPass(ctx, b, ch, tick)
		if err != nil {
			return nil, err
		}
		g = expandGram(g0, cols, r.d)
		passes++
	}
	if err := checkGramFinite(g, maxAbs); err != nil {
		return nil, err
	}
	eq := equilibrate(g, pre)
	res := &Result{Method: Exact, Ridge: opts.Ridge, Scores: make([]float64, r.n), Passes: passes, GramTrace: gramTrace(g, pre)}
	zeroCols := r.d - len(eq.Keep)
	if len(eq.Keep) == 0 {
		return allZero(r.n, r.d, opts.Ridge), nil
	}
	done := false
	if opts.Refinement != RefineAlways {
		done, err = r.twoPass(res, g, eq)
		if err != nil {
			return nil, err
		}
	}
	if !done {
		if err := r.refined(res, g, eq); err != nil {
			return nil, err
		}
	}
	if k := min(r.n, r.d); res.Refined && len(res.SingularValues) < k {
		res.SingularValues = append(res.SingularValues, make([]float64, k-len(res.SingularValues))...)
	}
	for i, s := range res.Scores {
		res.Scores[i] = min(max(s, 0), 1)
	}
	res.Warnings = append(res.Warnings, rankWarnings(res, r.d, zeroCols)...)
	return res, nil
}

// checkGramFinite returns an error naming the first column whose Gram entries are not finite. The
// pre-scaling makes this unreachable; it stands guard so that an overflow can never turn into wrong
// scores.
func checkGramFinite(g *mat.SymDense, maxAbs []float64) error {
	raw := g.RawSymmetric()
	for i := 0; i < raw.N; i++ {
		for _, v := range raw.Data[i*raw.Stride+i : i*raw.Stride+raw.N] {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return fmt.Errorf("internal error: the Gram matrix overflowed at column %d (max |x| = %g)", i, maxAbs[i])
			}
		}
	}
	return nil
}

// allZero is the result for an X of zeros: rank 0, every score 0, and a warning.
func allZero(n, d int, ridge float64) *Result {
	return &Result{Method: Exact, Ridge: ridge, Scores: make([]float64, n), Passes: 1, SingularValues: make([]float64, min(n, d)),
		Warnings: []error{fmt.Errorf("%w: X is all zeros (rank 0)", ErrRankDeficient)}}
}

// twoPass is step 2 of Scores. It reports false (and leaves res for the refined path) when the
// factorization is too ill-conditioned or the dropped directions are not certified.
func (r *leverageRun) twoPass(res *Result, g *mat.SymDense, eq equilibration) (bool, error) {
	w := len(eq.Keep)
	gs := eq.scaled(g, xslices.Iota(w))
	type factor struct {
		f        *cholFactor
		sigmaMax float64
	}
	fs, err := onHost(r.ctx, func() (factor, error) {
		f, err := pivotedCholesky(gs, cholEta)
		if err != nil || (r.opts.Refinement != RefineNever && !(f.Cond <= maxFastCond)) {
			return factor{f: f}, err
		}
		// σ_max by power iteration: the full spectrum (an eigendecomposition, 0.2 s at D = 719) is left
		// to the refined path.
		return factor{f, math.Sqrt(largestEigenvalue(gs))}, nil
	})
	if err != nil {
		return false, err
	}
	f, sigmaMax := fs.f, fs.sigmaMax
	if r.opts.Refinement != RefineNever && !(f.Cond <= maxFastCond) {
		return false, nil
	}
	tol := r.tol(sigmaMax)
	// The permuted, scaled columns the projection reads: position k is column Keep[Piv[k]].
	cols, scale, scale2 := eq.chunkScale(f.Piv)
	ch, tick := r.pass("projection", cols, scale)
	ch.Scale2 = scale2
	scores, h, err := projectPass(r.ctx, r.b, ch, projection{M: f.T, Lead: f.Rank, Triangular: true, TailGram: true}, tick)
	if err != nil {
		return false, err
	}
	res.Passes++
	type bounds struct{ next, sigmaRank float64 }
	bd, err := onHost(r.ctx, func() (bounds, error) {
		next, err := tailNorm(h, tol)
		return bounds{next, 1 / inverseNorm2(f.T, f.Rank)}, err // σ_min(U11) ≤ σ_r(X̃)
	})
	if err != nil {
		return false, err
	}
	next, sigmaRank := bd.next, bd.sigmaRank
	if r.opts.Refinement != RefineNever && (next > tol || sigmaRank <= tol) {
		return false, nil // a dropped direction above the tolerance, or a kept one not clearly above: refine
	}
	res.Rank, res.Tolerance, res.Scores = f.Rank, tol, scores
	res.SigmaMax, res.SigmaRank, res.SigmaNext = sigmaMax, sigmaRank, next
	if r.opts.Ridge > 0 {
		m0 := mat.DenseCopyOf(f.T.Slice(0, w, 0, f.Rank))
		exps := make([]int, w)
		for k, p := range f.Piv {
			exps[k] = eq.Exp[p]
		}
		if err := r.ridge(res, m0, f.U.Slice(0, f.Rank, 0, w).(*mat.Dense), cols, scale, scale2, exps); err != nil {
			return false, err
		}
	}
	return true, nil
}

// maxTailEigen is the largest tail Gram matrix H whose eigenvalues tailNorm computes (MNIST RAW's
// tail is 71 columns: its σ_{r+1} stays exact); beyond it the bound √trace(H) is used.
const maxTailEigen = 1024

// tailNorm returns ‖R_b‖₂ = √λ_max(H) for the tail Gram matrix H (nil: 0), or an upper bound on it: for
// a tail wider than maxTailEigen the full eigendecomposition (minutes at 16,000 columns) is replaced
// by √trace(H) ≥ √λ_max(H), H being positive semidefinite. The bound can only send a certifiable
// result to the refined path, never certify a wrong one.
func tailNorm(h *mat.SymDense, tol float64) (float64, error) {
	if h == nil {
		return 0, nil
	}
	if n := h.SymmetricDim(); n > maxTailEigen {
		tr := 0.0
		for i := 0; i < n; i++ {
			tr += max(h.At(i, i), 0)
		}
		return math.Sqrt(tr), nil
	}
	tail, err := eigenvaluesDesc(h)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(max(tail[0], 0)), nil
}

// onHost runs f, a factorization on the host that cannot look at ctx (gonum's LAPACK), in a goroutine
// and returns its result, or ctx's error as soon as ctx is done: at 16,000 columns a factorization
// takes minutes, and an interrupt must not wait for it. An abandoned f runs on to its end in the
// background; its result is dropped.
func onHost[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// refined is step 3 of Scores.
func (r *leverageRun) refined(res *Result, g *mat.SymDense, eq equilibration) error {
	w := len(eq.Keep)
	f, err := onHost(r.ctx, func() (*refineFactor, error) { return newRefine(eq.scaled(g, xslices.Iota(w))) })
	if err != nil {
		return err
	}
	all := xslices.Iota(w)
	cols, scale, scale2 := eq.chunkScale(all)
	ch, tick := r.pass("refinement Gram", cols, scale)
	ch.Scale2 = scale2
	ch.Rows = r.chunkRows(2 * w) // the chunk and its product Y
	g2, err := gomlxutil.GramPassTimes(r.ctx, r.b, ch, f.W1, tick)
	if err != nil {
		return err
	}
	type finished struct {
		m, r0 *mat.Dense
		sv    []float64
		rank  int
	}
	fin, err := onHost(r.ctx, func() (finished, error) {
		m, sv, rank, r0, err := f.finish(g2, r.tol)
		return finished{m, r0, sv, rank}, err
	})
	if err != nil {
		return err
	}
	m, sv, rank, r0 := fin.m, fin.sv, fin.rank, fin.r0
	res.Passes++
	res.Refined, res.SingularValues, res.Rank, res.Tolerance = true, sv[:min(r.n, w)], rank, r.tol(sv[0])
	res.SigmaMax = sv[0]
	if rank > 0 {
		res.SigmaRank = sv[rank-1]
	}
	if rank < len(sv) {
		res.SigmaNext = sv[rank]
	}
	if rank == 0 {
		clear(res.Scores)
		return nil
	}
	if r.opts.Ridge > 0 {
		return r.ridge(res, m, r0, cols, scale, scale2, eq.Exp)
	}
	ch, tick = r.pass("projection", cols, scale)
	ch.Scale2 = scale2
	scores, _, err := projectPass(r.ctx, r.b, ch, projection{M: m, Lead: rank}, tick)
	if err != nil {
		return err
	}
	res.Passes++
	res.Scores = scores
	return nil
}

// ridge replaces res.Scores by ridge leverage from an orthonormal basis X̃M₀ with X̃ = (X̃M₀)R₀ (see
// ridgeFactor), one more projection pass over the columns cols scaled by scale·scale2 = 2^−exps.
func (r *leverageRun) ridge(res *Result, m0, r0 *mat.Dense, cols []int, scale, scale2 []float64, exps []int) error {
	type factor struct {
		m   *mat.Dense
		wts []float64
	}
	fw, err := onHost(r.ctx, func() (factor, error) {
		m, wts, err := ridgeFactor(m0, r0, exps, r.opts.Ridge)
		return factor{m, wts}, err
	})
	if err != nil {
		return err
	}
	m, wts := fw.m, fw.wts
	ch, tick := r.pass(fmt.Sprintf("ridge projection (λ = %g)", r.opts.Ridge), cols, scale)
	ch.Scale2 = scale2
	scores, _, err := projectPass(r.ctx, r.b, ch, projection{M: m, Lead: len(wts), Weights: wts}, tick)
	if err != nil {
		return err
	}
	res.Passes++
	res.Scores = scores
	return nil
}

// inverseNorm2 returns ‖T[:r, :r]‖₂ for the leading block of the triangular factor, by power
// iteration on (T11ᵀT11): 1/‖U11⁻¹‖₂ = σ_min(U11) ≤ σ_r(X̃).
func inverseNorm2(t *mat.Dense, r int) float64 {
	if r == 0 {
		return math.Inf(1)
	}
	t11 := t.Slice(0, r, 0, r)
	v := mat.NewVecDense(r, nil)
	for i := 0; i < r; i++ {
		v.SetVec(i, 1/math.Sqrt(float64(r))+1e-3*float64(i%7))
	}
	var u, z mat.VecDense
	norm := 0.0
	for it := 0; it < 100; it++ {
		u.MulVec(t11, v)
		z.MulVec(t11.T(), &u)
		nz := mat.Norm(&z, 2)
		if nz == 0 {
			return 0
		}
		prev := norm
		norm = math.Sqrt(nz / mat.Norm(v, 2))
		v.ScaleVec(1/nz, &z)
		if math.Abs(norm-prev) <= 1e-6*norm {
			break
		}
	}
	return norm
}

// largestEigenvalue returns λ_max of a positive semidefinite matrix by power iteration (to 1e-6).
func largestEigenvalue(a *mat.SymDense) float64 {
	n := a.SymmetricDim()
	v := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		v.SetVec(i, 1/math.Sqrt(float64(n))+1e-3*float64(i%7))
	}
	var z mat.VecDense
	lam := 0.0
	for it := 0; it < 200; it++ {
		z.MulVec(a, v)
		nz := mat.Norm(&z, 2)
		if nz == 0 {
			return 0
		}
		prev := lam
		lam = mat.Dot(v, &z) / mat.Dot(v, v)
		v.ScaleVec(1/nz, &z)
		if math.Abs(lam-prev) <= 1e-6*lam {
			break
		}
	}
	return lam
}

// rankWarnings reports rank deficiency, and an ill-determined rank: σ_r and σ_{r+1} within a factor
// 100 of each other with σ_r within a factor 100 of the tolerance.
func rankWarnings(res *Result, d, zeroCols int) []error {
	var w []error
	if res.Rank < d {
		w = append(w, fmt.Errorf("%w: rank %d of %d columns (%d all-zero columns); the QR method is wrong here",
			ErrRankDeficient, res.Rank, d, zeroCols))
	}
	r := res.Rank
	if r > 0 && res.SigmaNext > 0 && res.SigmaRank/res.SigmaNext < 100 && res.SigmaRank < 100*res.Tolerance {
		w = append(w, fmt.Errorf("rank %d is ill-determined: σ_%d = %.3g and σ_%d = %.3g lie near the tolerance %.3g",
			r, r, res.SigmaRank, r+1, res.SigmaNext, res.Tolerance))
	}
	return w
}

// Sum returns Σℓ: the rank for exact leverage, the effective degrees of freedom for ridge leverage,
// every column for the QR method.
func (r *Result) Sum() float64 {
	s := 0.0
	for _, v := range r.Scores {
		s += v
	}
	return s
}

// RowsAbove returns the rows whose score exceeds t, in row order (ℓ > 0.99: rows that alone span a
// direction of the column space).
func (r *Result) RowsAbove(t float64) []int {
	var rows []int
	for i, v := range r.Scores {
		if v > t {
			rows = append(rows, i)
		}
	}
	return rows
}
