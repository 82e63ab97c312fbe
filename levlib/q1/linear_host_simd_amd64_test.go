//go:build goexperiment.simd

package q1

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// kernelSets returns the host step's kernel sets this CPU runs (AVX-512, AVX2), each with its
// exponential applied to a slice whose length is a multiple of 16.
func kernelSets(t *testing.T) []struct {
	name string
	k    *linearKernels
	exp  func(x []float32) []float32
} {
	type set = struct {
		name string
		k    *linearKernels
		exp  func(x []float32) []float32
	}
	var sets []set
	if archsimd.X86.AVX512() {
		sets = append(sets, set{"avx512", avx512LinearKernels, func(x []float32) []float32 {
			out := make([]float32, len(x))
			for i := 0; i < len(x); i += 16 {
				exp16(archsimd.LoadFloat32x16((*[16]float32)(x[i : i+16]))).Store((*[16]float32)(out[i : i+16]))
			}
			return out
		}})
	} else {
		t.Log("avx512: not supported by this CPU, skipped")
	}
	if hasAVX2FMA() {
		sets = append(sets, set{"avx2", avx2LinearKernels, func(x []float32) []float32 {
			out := make([]float32, len(x))
			for i := 0; i < len(x); i += 8 {
				exp8(archsimd.LoadFloat32x8((*[8]float32)(x[i : i+8]))).Store((*[8]float32)(out[i : i+8]))
			}
			return out
		}})
	} else {
		t.Log("avx2: not supported by this CPU, skipped")
	}
	if len(sets) == 0 {
		t.Skip("this CPU has neither AVX-512 nor AVX2 with FMA: the graph runs instead of the host step")
	}
	return sets
}

// TestMatMulKernels checks the host step's product kernels against float64 sums: every 16-column
// block, both halves of the 10 output rows, an odd inner length; each value within 1e-6 of Σ_t |a||b|
// (float32 rounding of 37 products), and the other five rows untouched.
func TestMatMulKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const T, N = 37, 64
	a, b := make([]float32, 10*T), make([]float32, T*N)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	for _, ks := range kernelSets(t) {
		for _, c0 := range []int{0, 5} {
			out := make([]float32, 10*N)
			for i := range out {
				out[i] = -7
			}
			for n0 := 0; n0 < N; n0 += 16 {
				ks.k.matMul5(out, a, b, T, N, n0, c0)
			}
			for c := 0; c < 10; c++ {
				for n := 0; n < N; n++ {
					got := out[c*N+n]
					if c < c0 || c >= c0+5 {
						if got != -7 {
							t.Fatalf("%s, c0 = %d: row %d, column %d written (%v)", ks.name, c0, c, n, got)
						}
						continue
					}
					var want, mag float64
					for i := 0; i < T; i++ {
						p := float64(a[c*T+i]) * float64(b[i*N+n])
						want += p
						mag += math.Abs(p)
					}
					if math.Abs(float64(got)-want) > 1e-6*mag {
						t.Fatalf("%s, c0 = %d: out[%d, %d] = %v, float64 sum %v (Σ|ab| = %v)", ks.name, c0, c, n, got, want, mag)
					}
				}
			}
		}
	}
}

// TestExpKernels checks the vector exponentials against math.Exp on [−110, 0]: relative error at most
// 4e-7 (measured 7.3e-8 with AVX-512) where e^x is a normal float32 (x ≥ −87.3); below, AVX-512's
// underflows through the subnormals to 0 (within 2e-38 of e^x) and AVX2's stops at e^−87.3 ≈ 1.2e-38;
// e^0 = 1 exactly.
func TestExpKernels(t *testing.T) {
	var xs []float32
	for x := -110.0; x <= 0; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), -1e-20, -1e-7, -87.3, -88, -103, -104, -1e4)
	for len(xs)%16 != 0 {
		xs = append(xs, 0)
	}
	for _, ks := range kernelSets(t) {
		out := ks.exp(xs)
		worst := 0.0
		for i, x := range xs {
			want, got := math.Exp(float64(x)), float64(out[i])
			switch {
			case x == 0 && got != 1:
				t.Fatalf("%s: exp(%v) = %v, want 1", ks.name, x, got)
			case x >= -87.3:
				rel := math.Abs(got-want) / want
				worst = max(worst, rel)
				if rel > 4e-7 {
					t.Fatalf("%s: exp(%v) = %v, math.Exp %v: relative error %.2g", ks.name, x, got, want, rel)
				}
			case got < 0 || got > 1.25e-38 || (ks.name == "avx512" && math.Abs(got-want) > 2e-38):
				t.Fatalf("%s: exp(%v) = %v, math.Exp %v", ks.name, x, got, want)
			}
		}
		t.Logf("%s: largest relative error on [−87.3, 0]: %.2g", ks.name, worst)
	}
}

// TestSoftmaxGradKernels checks the fused softmax-gradient kernels against float64: logits of every
// size up to ±60 (so the shift by the maximum matters), one-hot labels, a scale per column, a padding
// column (scale 0); each output within 1e-6·s of (softmax − y)·s.
func TestSoftmaxGradKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const N = 48
	orig, y, s := make([]float32, 10*N), make([]float32, 10*N), make([]float32, 10*N)
	for i := 0; i < N; i++ {
		scale := []float64{0.01, 1, 10, 60}[i%4]
		label := rng.IntN(10)
		si := float32(1 / float64(1+i))
		if i == N-1 {
			si = 0 // padding
		}
		for c := 0; c < 10; c++ {
			orig[c*N+i] = float32(rng.NormFloat64() * scale)
			s[c*N+i] = si
		}
		y[label*N+i] = 1
	}
	for _, ks := range kernelSets(t) {
		lg := append([]float32(nil), orig...)
		for i0 := 0; i0 < N; i0 += 16 {
			ks.k.softmaxGrad(lg, y, s, N, i0)
		}
		for i := 0; i < N; i++ {
			mx := math.Inf(-1)
			for c := 0; c < 10; c++ {
				mx = max(mx, float64(orig[c*N+i]))
			}
			var sum float64
			for c := 0; c < 10; c++ {
				sum += math.Exp(float64(orig[c*N+i]) - mx)
			}
			for c := 0; c < 10; c++ {
				sc := float64(s[c*N+i])
				want := (math.Exp(float64(orig[c*N+i])-mx)/sum - float64(y[c*N+i])) * sc
				if got := float64(lg[c*N+i]); math.Abs(got-want) > 1e-6*sc || (sc == 0 && got != 0) {
					t.Fatalf("%s: column %d, class %d: %v, float64 %v", ks.name, i, c, got, want)
				}
			}
		}
	}
}
