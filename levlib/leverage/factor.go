package leverage

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// The host side of the leverage engine: factorizations of D×D matrices with gonum. Each function is
// one step of Scores and is tested on small matrices.

const eps64 = 0x1p-52

// equilibration drops the all-zero columns of X and scales the others by powers of two (exact in
// floating point) so that every scaled column has norm in [1/2, 1).
type equilibration struct {
	Keep []int // the nonzero columns, in order
	// Scale[k] = 2^−e for column Keep[k], relative to the Gram matrix equilibrate read: the scaled Gram
	// matrix is S·G·S (see scaled).
	Scale []float64
	// Exp[k] is the total exponent: the passes over X read column Keep[k] times 2^−Exp[k] (the
	// pre-scaling of an extreme column, times Scale[k]); see chunkScale.
	Exp []int
}

// equilibrate reads the column norms off the diagonal of G, the Gram matrix of X·diag(2^−pre[j]) (pre
// nil: of X itself). A column is zero exactly when its diagonal entry is 0.
func equilibrate(g *mat.SymDense, pre []int) equilibration {
	var e equilibration
	for j := 0; j < g.SymmetricDim(); j++ {
		if gjj := g.At(j, j); gjj > 0 {
			_, exp := math.Frexp(math.Sqrt(gjj))
			e.Keep = append(e.Keep, j)
			e.Scale = append(e.Scale, math.Ldexp(1, -exp))
			if pre != nil {
				exp += pre[j]
			}
			e.Exp = append(e.Exp, exp)
		}
	}
	return e
}

// chunkScale returns the column scales of a pass that reads the kept columns at positions pos (indices
// into Keep): factor 2^−Exp[p], as two factors (s2 not nil) when some factor is not a normal float64.
// Without pre-scaling s1 is Scale itself.
func (e equilibration) chunkScale(pos []int) (cols []int, s1, s2 []float64) {
	cols, s1 = make([]int, len(pos)), make([]float64, len(pos))
	for k, p := range pos {
		a, b := pow2Neg(e.Exp[p])
		cols[k], s1[k] = e.Keep[p], a
		if b != 1 {
			if s2 == nil {
				s2 = make([]float64, len(pos))
				for i := range s2 {
					s2[i] = 1
				}
			}
			s2[k] = b
		}
	}
	return cols, s1, s2
}

// pow2Neg returns 2^−e as a·b with a and b normal float64 powers of two (b = 1 when 2^−e itself is
// one: −1022 ≤ −e ≤ 1023).
func pow2Neg(e int) (a, b float64) {
	if -e >= -1022 && -e <= 1023 {
		return math.Ldexp(1, -e), 1
	}
	h := e / 2
	return math.Ldexp(1, -h), math.Ldexp(1, -(e - h))
}

// prescaleExponents decides from the largest |x| of each column (maxAbs, 0 for a zero column) of an
// N-row X whether its Gram matrix G = XᵀX was formed safely: with every nonzero column's exponent e_j
// (max |x| = f·2^e_j, f ∈ [1/2, 1)) in [−400, 400], every product of two column maxima is in
// [2^−802, 2^800] and every sum below N·2^800 < 2^1023 (N < 2^63), so neither a square underflows
// relative to its column nor a sum overflows. It returns nil then (G stands, bit for bit as before), else the exponents e_j
// to pre-scale X by 2^−e_j before forming G again (each scaled column's max |x| in [1/2, 1)).
func prescaleExponents(maxAbs []float64) []int {
	safe := true
	exps := make([]int, len(maxAbs))
	for j, m := range maxAbs {
		if m == 0 {
			continue
		}
		_, e := math.Frexp(m)
		exps[j] = e
		if e < -400 || e > 400 {
			safe = false
		}
	}
	if safe {
		return nil
	}
	return exps
}

// scaled returns S·G·S restricted to the kept columns (order given by cols, indices into Keep).
func (e equilibration) scaled(g *mat.SymDense, cols []int) *mat.SymDense {
	w := len(cols)
	out := mat.NewSymDense(w, nil)
	raw := out.RawSymmetric()
	for a, ka := range cols {
		ia, sa := e.Keep[ka], e.Scale[ka]
		for b := a; b < w; b++ {
			kb := cols[b]
			raw.Data[a*raw.Stride+b] = g.At(ia, e.Keep[kb]) * sa * e.Scale[kb]
		}
	}
	return out
}

// cholFactor is the pivoted Cholesky factorization Pᵀ G̃ P = UᵀU of the equilibrated Gram matrix,
// stopped at rank r (the remaining diagonal ≤ η), and what the fast path needs from it.
type cholFactor struct {
	Rank int
	// Piv is the pivot order: position k of the permuted columns is kept column Piv[k].
	Piv []int
	// U is the r×w factor [U11 U12] (U11 upper triangular).
	U *mat.Dense
	// T is the w×w upper triangular matrix [[U11⁻¹, −U11⁻¹U12], [0, I]]: X̃P·T = [Q, R_b] with Q
	// orthonormal (up to eps·κ(U11)²) and R_b the residual of the trailing columns after projecting
	// them on Q.
	T *mat.Dense
	// Cond is a 1-norm condition number estimate of U11 (LAPACK Dtrcon).
	Cond float64
}

// pivotedCholesky factorizes the w×w equilibrated Gram matrix with complete pivoting (LAPACK Dpstrf),
// stopping when the largest remaining diagonal entry is ≤ eta (a squared column norm relative to the
// unit-scale columns).
func pivotedCholesky(gs *mat.SymDense, eta float64) (*cholFactor, error) {
	w := gs.SymmetricDim()
	a := make([]float64, w*w)
	raw := gs.RawSymmetric()
	for i := 0; i < w; i++ {
		copy(a[i*w+i:(i+1)*w], raw.Data[i*raw.Stride+i:i*raw.Stride+w])
	}
	var impl gonum.Implementation
	piv := make([]int, w)
	r, _ := impl.Dpstrf(blas.Upper, w, a, w, piv, eta, make([]float64, 2*w))
	f := &cholFactor{Rank: r, Piv: piv, U: mat.NewDense(max(r, 1), w, nil), T: mat.NewDense(w, w, nil)}
	if r == 0 {
		f.Cond = math.Inf(1)
		return f, nil
	}
	for i := 0; i < r; i++ {
		copy(f.U.RawRowView(i)[i:], a[i*w+i:(i+1)*w])
	}
	// U11⁻¹ in place (upper triangular), and its condition estimate.
	u11 := make([]float64, r*r)
	for i := 0; i < r; i++ {
		copy(u11[i*r+i:(i+1)*r], a[i*w+i:i*w+r])
	}
	f.Cond = 1 / impl.Dtrcon(lapack.MaxColumnSum, blas.Upper, blas.NonUnit, r, u11, r, make([]float64, 3*r), make([]int, r))
	if ok := impl.Dtrtri(blas.Upper, blas.NonUnit, r, u11, r); !ok {
		return nil, errors.New("pivoted Cholesky: singular leading factor")
	}
	inv := mat.NewDense(r, r, u11)
	for i := 0; i < r; i++ {
		copy(f.T.RawRowView(i)[:r], u11[i*r:(i+1)*r])
	}
	if r < w {
		var t12 mat.Dense
		t12.Mul(inv, f.U.Slice(0, r, r, w))
		t12.Scale(-1, &t12)
		f.T.Slice(0, r, r, w).(*mat.Dense).Copy(&t12)
		for i := r; i < w; i++ {
			f.T.Set(i, i, 1)
		}
	}
	return f, nil
}

// eigenSym returns the eigenvalues (ascending) and eigenvectors of a symmetric matrix.
func eigenSym(a *mat.SymDense) ([]float64, *mat.Dense, error) {
	var e mat.EigenSym
	if ok := e.Factorize(a, true); !ok {
		return nil, nil, errors.New("did not converge")
	}
	vals := e.Values(nil)
	var v mat.Dense
	e.VectorsTo(&v)
	if !sort.Float64sAreSorted(vals) {
		return nil, nil, errors.New("eigenvalues not in ascending order")
	}
	return vals, &v, nil
}

// eigenvaluesDesc returns the eigenvalues of a symmetric matrix in decreasing order (no vectors).
func eigenvaluesDesc(a *mat.SymDense) ([]float64, error) {
	var e mat.EigenSym
	if ok := e.Factorize(a, false); !ok {
		return nil, errors.New("eigenvalues did not converge")
	}
	v := e.Values(nil)
	slices.Reverse(v)
	return v, nil
}

// refineFactor is the CholeskyQR2-style factorization of the robust path (Fukaya et al., "CholeskyQR2:
// a simple and communication-avoiding algorithm for computing a tall-skinny QR factorization", 2014),
// with eigendecompositions in place of Cholesky so that rank-deficient and ill-conditioned X work:
//
//	pass 1: G̃ = VΛVᵀ, W₁ = V diag(λ)^(-1/2) with λ floored at λ_max·w·eps, Y = X̃W₁;
//	pass 2: G₂ = YᵀY = V₂Λ₂V₂ᵀ, Q₂ = YV₂Λ₂^(-1/2) orthonormal and X̃ = Q₂R,
//	        R = Λ₂^(1/2)V₂ᵀ diag(λ)^(1/2)Vᵀ; R = U_R Σ V_Rᵀ gives the singular values of X̃.
type refineFactor struct {
	W1 *mat.Dense // w×w
	s1 []float64
	v  *mat.Dense
}

// newRefine builds W₁ from the eigendecomposition of the equilibrated Gram matrix.
func newRefine(gs *mat.SymDense) (*refineFactor, error) {
	w := gs.SymmetricDim()
	lam, v, err := eigenSym(gs)
	if err != nil {
		return nil, fmt.Errorf("eigendecomposition of the Gram matrix: %w", err)
	}
	lamMax := lam[w-1]
	floor := lamMax * float64(w) * eps64
	f := &refineFactor{W1: mat.NewDense(w, w, nil), s1: make([]float64, w), v: v}
	for i, l := range lam {
		f.s1[i] = math.Sqrt(math.Max(l, floor))
	}
	for i := 0; i < w; i++ {
		row, vr := f.W1.RawRowView(i), v.RawRowView(i)
		for j := range row {
			row[j] = vr[j] / f.s1[j]
		}
	}
	return f, nil
}

// finish takes G₂ = YᵀY and returns M (w×r) with X̃M = U_r, the singular values of X̃ (decreasing) and
// the rank for the absolute tolerance tol(σ_max).
func (f *refineFactor) finish(g2 *mat.SymDense, tol func(sigmaMax float64) float64) (m *mat.Dense, sv []float64, rank int, r0 *mat.Dense, err error) {
	w := g2.SymmetricDim()
	lam2, v2, err := eigenSym(g2)
	if err != nil {
		return nil, nil, 0, nil, fmt.Errorf("eigendecomposition of the refined Gram matrix: %w", err)
	}
	cut := lam2[w-1] * float64(w) * eps64 * float64(w) * eps64 // σ ratio ≤ w·eps within Y: noise
	s2 := make([]float64, w)
	for i, l := range lam2 {
		if l > cut {
			s2[i] = math.Sqrt(l)
		}
	}
	// R = diag(s2) V2ᵀ diag(s1) Vᵀ, so that X̃ = q2.Run R.
	tmp := mat.NewDense(w, w, nil)
	for i := 0; i < w; i++ {
		row := tmp.RawRowView(i)
		for j := range row {
			row[j] = f.s1[i] * f.v.At(j, i)
		}
	}
	r := mat.NewDense(w, w, nil)
	r.Mul(v2.T(), tmp)
	for i := 0; i < w; i++ {
		row := r.RawRowView(i)
		for j := range row {
			row[j] *= s2[i]
		}
	}
	var svd mat.SVD
	if ok := svd.Factorize(r, mat.SVDThin); !ok {
		return nil, nil, 0, nil, errors.New("SVD of the D×D factor did not converge")
	}
	sv = svd.Values(nil)
	t := tol(sv[0])
	for _, s := range sv {
		if s > t {
			rank++
		}
	}
	var ur, vr mat.Dense
	svd.UTo(&ur)
	svd.VTo(&vr)
	// M = W1 V2 diag(1/s2) U_R(:, :rank).
	v2s := mat.DenseCopyOf(v2)
	for i := 0; i < w; i++ {
		row := v2s.RawRowView(i)
		for j := range row {
			if s2[j] > 0 {
				row[j] /= s2[j]
			} else {
				row[j] = 0
			}
		}
	}
	var a mat.Dense
	a.Mul(f.W1, v2s)
	m = mat.NewDense(w, max(rank, 1), nil)
	if rank > 0 {
		m.Mul(&a, ur.Slice(0, w, 0, rank))
	}
	// R0 = Σ_r V_R(:, :r)ᵀ: X̃ = U_r R0 on the numerical range.
	r0 = mat.NewDense(max(rank, 1), w, nil)
	for i := 0; i < rank; i++ {
		row := r0.RawRowView(i)
		for j := range row {
			row[j] = sv[i] * vr.At(j, i)
		}
	}
	return m, sv, rank, r0, nil
}

// ridgeFactor turns an orthonormal basis Q = X̃M₀ (w×r) of the column space, with X̃ = Q·R₀ (R₀ r×w,
// in the chunk's scaled columns), into the projection of ridge leverage
//
//	ℓ_i(λ) = x_iᵀ(XᵀX + λI)⁻¹x_i = Σ_j (QU_R)_ij² σ_j²/(σ_j² + λ),
//
// where R₀S⁻¹ = U_R Σ V_Rᵀ is the SVD of the unscaled factor (S = diag(2^−exps[j]) the column scales),
// so σ_j are the singular values of X itself. It returns M = M₀U_R and the weights σ_j²/(σ_j² + λ),
// computed as 1/(1 + (√λ/σ_j)²) when σ_j² is not a normal float64 (σ_j beyond 1e154 or below 1e-154).
func ridgeFactor(m0, r0 *mat.Dense, exps []int, lambda float64) (*mat.Dense, []float64, error) {
	r, _ := r0.Dims()
	un := mat.DenseCopyOf(r0)
	for i := 0; i < r; i++ {
		row := un.RawRowView(i)
		for j := range row {
			row[j] = math.Ldexp(row[j], exps[j])
		}
	}
	var svd mat.SVD
	if ok := svd.Factorize(un, mat.SVDThinU); !ok {
		return nil, nil, errors.New("ridge leverage: SVD of the factor did not converge")
	}
	sv := svd.Values(nil)
	var u mat.Dense
	svd.UTo(&u)
	var m mat.Dense
	m.Mul(m0, &u)
	wts := make([]float64, len(sv))
	for j, s := range sv {
		if s2 := s * s; s2 >= 0x1p-1022 && !math.IsInf(s2, 0) {
			wts[j] = s2 / (s2 + lambda)
		} else if s > 0 {
			q := math.Sqrt(lambda) / s
			wts[j] = 1 / (1 + q*q)
		}
	}
	return &m, wts, nil
}
