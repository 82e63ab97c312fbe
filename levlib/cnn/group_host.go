package cnn

import (
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/hostops"
)

// The elementwise passes of groupStepper and groupForward, on the host: each is one pass over memory on
// all cores (gomlxutil.ParallelFor), with AVX-512 or AVX2 vectors where the build has GOEXPERIMENT=simd
// (group_simd_amd64.go), where the graph took several passes that the Go backend runs one at a
// time, each on one core, one element at a time. Each computes exactly what the graph computes (the
// same float32 operations in the same order; Adam is hostops.Adam, which avoids fused multiply-adds),
// so results are bitwise the graph's.
//
// Measured on 2 cores (AMD EPYC, Zen 4), one network, 9 alternating pairs of 20 steps of batch 64: the
// graph-only host-column stepper (colStepper) took 1.69× as long as the fused one (median; range
// 1.63–1.84), whose profile is then two thirds matrix kernels; the fused host passes are 5% of it.
//
// What is left is the backend's matrix kernel, and that is where the CPUs differ. Built by Go 1.26,
// its AVX-512 float32 inner loop (avx512LargeKernelFloat32, compute v0.1.0) issues per 8 FMAs 4 scalar
// loads, 4 register-to-register VBROADCASTSS and about 16 register-to-register zmm moves: archsimd's
// MulAdd lowers to VFMADD213PS, whose result replaces the multiplicand, so each accumulation copies the
// reused right-hand vector first and the result back. Where a core eliminates register moves at
// rename they cost little; where it executes them (and the broadcasts) on the ports the 512-bit FMAs
// use, the FMA rate drops: a plausible cause of training at 0.52× PyTorch on an Intel Xeon against
// 1.03× on Zen 4 (not verified: no Intel host was at hand). GOAMD64=v3/v4 compile that loop
// identically (the loop is intrinsics); Go 1.27's archsimd cannot build compute v0.1.0–v0.1.2 (its
// Load functions take slices now); GOMLX_SIMD_AVX512=false (the AVX2 kernels) is 0.71× on Zen 4 and
// untested on Intel. Nor did a host conv2 kernel in the backend's exact arithmetic win (0.89–0.92× on
// the embedding; README "Speed"): Go 1.26 gave its vectors only zmm0–zmm14, so a tile of 16
// accumulators spilled at every FMA and one small enough not to spill loads too much per FMA.

// The kernels on one range of elements; the vector versions replace them at init where the CPU allows.
var (
	poolForwardKernel  = poolForwardScalar
	poolBackwardKernel = poolBackwardScalar
	addToKernel        = addToScalar
)

// addToScalar adds src to dst elementwise.
func addToScalar(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// poolForward is max-pooling then ReLU of the four 2×2 window-position tensors z_0…z_3 (n values each):
// a = max(max(z_0, z_1), max(z_2, z_3)) clamped below at 0, as relu0(pool4(z)).
func poolForward(a []float32, z [4][]float32) {
	gomlxutil.ParallelFor(len(a), func(lo, hi int) {
		poolForwardKernel(a[lo:hi], [4][]float32{z[0][lo:hi], z[1][lo:hi], z[2][lo:hi], z[3][lo:hi]})
	})
}

// poolBackward routes d, the gradient of poolForward's output a, back to the window positions, as
// reluMask then route4 do: where a > 0, to the first q with z_q = a; dz_q = 0 elsewhere.
func poolBackward(dz [4][]float32, d, a []float32, z [4][]float32) {
	gomlxutil.ParallelFor(len(d), func(lo, hi int) {
		poolBackwardKernel([4][]float32{dz[0][lo:hi], dz[1][lo:hi], dz[2][lo:hi], dz[3][lo:hi]}, d[lo:hi], a[lo:hi],
			[4][]float32{z[0][lo:hi], z[1][lo:hi], z[2][lo:hi], z[3][lo:hi]})
	})
}

// adamStep is gomlxutil.AdamUpdate on the host for every parameter l (hostops.Adam): p_l, m_l, v_l
// updated in place from the gradient g_l, with c1, c2 from gomlxutil.AdamScalars.
func adamStep(p, g, m, v [colParams][]float32, c1, c2 float32) {
	k := hostops.NewAdamConsts(c1, c2)
	for l := range p {
		hostops.Adam(p[l], g[l], m[l], v[l], &k)
	}
}

func poolForwardScalar(a []float32, z [4][]float32) {
	z0, z1, z2, z3 := z[0][:len(a)], z[1][:len(a)], z[2][:len(a)], z[3][:len(a)]
	for i := range a {
		a[i] = max(max(max(z0[i], z1[i]), max(z2[i], z3[i])), 0)
	}
}

func poolBackwardScalar(dz [4][]float32, d, a []float32, z [4][]float32) {
	for i, v := range d {
		var w [4]float32
		if ai := a[i]; ai > 0 {
			switch ai {
			case z[0][i]:
				w[0] = v
			case z[1][i]:
				w[1] = v
			case z[2][i]:
				w[2] = v
			default:
				w[3] = v
			}
		}
		dz[0][i], dz[1][i], dz[2][i], dz[3][i] = w[0], w[1], w[2], w[3]
	}
}
