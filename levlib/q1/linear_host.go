package q1

import (
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/hostops"
)

// The float32 step of FitLinearGroup on the host, used in place of its graph on GoMLX's Go backend
// where the CPU has AVX-512 or AVX2 with FMA (linear_host_simd_amd64.go installs the kernels;
// elsewhere, and in float64, the graph runs). It computes what the graph computes, in the same layouts:
//
//	logitsᵀ_m = W_m Zᵀ_m,   Gᵀ_m = (softmax(logitsᵀ_m) − Yᵀ_m) ∘ S_m,   ∇W_m = Gᵀ_m Z_m + L2·W_m∘P,
//
// then Adam (hostops.AdamSerial, one task per core), with its own kernel for the two skinny products
// (10 rows out; five rows of W or Gᵀ against 16 columns of the data at a time, the data read where it
// lies) and the softmax fused into the pass that makes the logits. Why: the Go backend's matrix kernel
// packs its right-hand operand, here the data, afresh at every product (17% of a fit's time in a
// profile of BenchmarkQ1Fits/classifier=linear), and runs the elementwise operations one at a time on
// one core; the host step reads the data where it lies and keeps both cores busy. The products sum in
// another order and the exponential is another polynomial, so results equal the graph's up to float32
// rounding (TestFitLinearGroupMatchesSolo's float32/host cases; the kernels against float64 in
// TestMatMulKernels, TestExpKernels and TestSoftmaxGradKernels).

// linearKernels are the host step's kernels, nil where the build or the CPU has none.
//
// matMul5 sets out[c0+c, n0:n0+16] to Σ_t a[c0+c, t]·b[t, n0:n0+16] for c < 5, with out [10, n], a
// [10, t] and b [t, n] row-major (n0 a multiple of 16, n0+16 ≤ n).
//
// softmaxGrad replaces columns i0:i0+16 of the logits lg [10, n] by (softmax over the 10 rows − y)·s,
// with y and s [10, n] (i0 a multiple of 16).
type linearKernels struct {
	matMul5     func(out, a, b []float32, t, n, n0, c0 int)
	softmaxGrad func(lg, y, s []float32, n, i0 int)
}

var hostLinearKernels *linearKernels

// hostLinearOff, set by tests, makes FitLinearGroup run its graph where it would run the host step.
var hostLinearOff bool

// hostLinear is the state of one graph's worth of models trained on the host: the constants of
// groupData (padded to kp rows and d1p columns, multiples of 16), the weights and Adam's moments W, mW,
// vW [M, 10, d1p], the gradient buffer and the logits/Gᵀ buffer [M, 10, kp].
type hostLinear struct {
	kern                  *linearKernels
	m, kp, d1p            int
	zt, z, yt, s, pen     []float32
	w, mw, vw, grad, lgts []float32
	l2                    float32
}

func newHostLinear(kern *linearKernels, consts [][]float32, m, kp, d1p int, l2 float64) *hostLinear {
	n := m * 10 * d1p
	return &hostLinear{kern: kern, m: m, kp: kp, d1p: d1p,
		zt: consts[0], z: consts[1], yt: consts[2], s: consts[3], pen: consts[4],
		w: make([]float32, n), mw: make([]float32, n), vw: make([]float32, n), grad: make([]float32, n),
		lgts: make([]float32, m*10*kp), l2: float32(l2)}
}

// step is one Adam step of every model, with Adam's scalars c1, c2 (gomlxutil.AdamScalars).
func (h *hostLinear) step(c1, c2 float32) {
	kp, d1p := h.kp, h.d1p
	wn, ln, zn := 10*d1p, 10*kp, d1p*kp
	// logitsᵀ_m = W_m Zᵀ_m, then Gᵀ_m in place, 16 rows of the data at a time.
	nk := kp / 16
	gomlxutil.ParallelFor(h.m*nk, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			j, i0 := it/nk, it%nk*16
			w, zt, lg := h.w[j*wn:(j+1)*wn], h.zt[j*zn:(j+1)*zn], h.lgts[j*ln:(j+1)*ln]
			h.kern.matMul5(lg, w, zt, d1p, kp, i0, 0)
			h.kern.matMul5(lg, w, zt, d1p, kp, i0, 5)
			h.kern.softmaxGrad(lg, h.yt[j*ln:(j+1)*ln], h.s[j*ln:(j+1)*ln], kp, i0)
		}
	})
	// ∇W_m = Gᵀ_m Z_m, 16 features at a time.
	nd := d1p / 16
	gomlxutil.ParallelFor(h.m*nd, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			j, f0 := it/nd, it%nd*16
			g, lg, z := h.grad[j*wn:(j+1)*wn], h.lgts[j*ln:(j+1)*ln], h.z[j*zn:(j+1)*zn]
			h.kern.matMul5(g, lg, z, kp, d1p, f0, 0)
			h.kern.matMul5(g, lg, z, kp, d1p, f0, 5)
		}
	})
	// + L2·W∘P (as the graph: the product rounded, then scaled, then added), and Adam.
	k := hostops.NewAdamConsts(c1, c2)
	gomlxutil.ParallelFor(h.m*10, func(lo, hi int) {
		a, b := lo*d1p, hi*d1p
		g, w, pen := h.grad[a:b], h.w[a:b], h.pen[a:b]
		for i := range g {
			g[i] += float32(float32(w[i]*pen[i]) * h.l2)
		}
		hostops.AdamSerial(w, g, h.mw[a:b], h.vw[a:b], &k)
	})
}

// roundUp16 returns n rounded up to a multiple of 16.
func roundUp16(n int) int { return (n + 15) &^ 15 }
