//go:build goexperiment.simd

package q1

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

func needAVX512(t *testing.T) {
	t.Helper()
	if !archsimd.X86.AVX512() {
		t.Skip("this CPU has no AVX-512: the host step's kernels are not used here")
	}
}

// TestMatMul5x16 checks the host step's product kernel against float64 sums: every 16-column block,
// both halves of the 10 output rows, an odd inner length; each value within 1e-6 of Σ_t |a||b|
// (float32 rounding of 37 products), and the other five rows untouched.
func TestMatMul5x16(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(3, 4))
	const T, N = 37, 64
	a, b := make([]float32, 10*T), make([]float32, T*N)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	for _, c0 := range []int{0, 5} {
		out := make([]float32, 10*N)
		for i := range out {
			out[i] = -7
		}
		for n0 := 0; n0 < N; n0 += 16 {
			matMul5x16(out, a, b, T, N, n0, c0)
		}
		for c := 0; c < 10; c++ {
			for n := 0; n < N; n++ {
				got := out[c*N+n]
				if c < c0 || c >= c0+5 {
					if got != -7 {
						t.Fatalf("c0 = %d: row %d, column %d written (%v)", c0, c, n, got)
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
					t.Fatalf("c0 = %d: out[%d, %d] = %v, float64 sum %v (Σ|ab| = %v)", c0, c, n, got, want, mag)
				}
			}
		}
	}
}

// TestExp16 checks the vector exponential against math.Exp on [−110, 0]: relative error at most 4e-7
// (measured 7.3e-8) where e^x is a normal float32 (x ≥ −87.3), absolute 2e-38 below, where it
// underflows through the subnormals to 0; e^0 = 1 exactly.
func TestExp16(t *testing.T) {
	needAVX512(t)
	var xs []float32
	for x := -110.0; x <= 0; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), -1e-20, -1e-7, -87.3, -88, -103, -104, -1e4)
	for len(xs)%16 != 0 {
		xs = append(xs, 0)
	}
	worst := 0.0
	for i := 0; i < len(xs); i += 16 {
		var out [16]float32
		exp16(archsimd.LoadFloat32x16((*[16]float32)(xs[i : i+16]))).Store(&out)
		for l, x := range xs[i : i+16] {
			want := math.Exp(float64(x))
			got := float64(out[l])
			if x == 0 && got != 1 {
				t.Fatalf("exp(%v) = %v, want 1", x, got)
			}
			if x >= -87.3 {
				rel := math.Abs(got-want) / want
				worst = max(worst, rel)
				if rel > 4e-7 {
					t.Fatalf("exp(%v) = %v, math.Exp %v: relative error %.2g", x, got, want, rel)
				}
			} else if math.Abs(got-want) > 2e-38 || got < 0 {
				t.Fatalf("exp(%v) = %v, math.Exp %v", x, got, want)
			}
		}
	}
	t.Logf("largest relative error on [−87.3, 0]: %.2g", worst)
}

// TestSoftmaxGrad16 checks the fused softmax-gradient kernel against float64: logits of every size up
// to ±60 (so the shift by the maximum matters), one-hot labels, a scale per column; each output within
// 1e-6·s of (softmax − y)·s.
func TestSoftmaxGrad16(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const N = 48
	lg, y, s := make([]float32, 10*N), make([]float32, 10*N), make([]float32, 10*N)
	for i := 0; i < N; i++ {
		scale := []float64{0.01, 1, 10, 60}[i%4]
		label := rng.IntN(10)
		si := float32(1 / float64(1+i))
		if i == N-1 {
			si = 0 // padding
		}
		for c := 0; c < 10; c++ {
			lg[c*N+i] = float32(rng.NormFloat64() * scale)
			s[c*N+i] = si
		}
		y[label*N+i] = 1
	}
	orig := append([]float32(nil), lg...)
	for i0 := 0; i0 < N; i0 += 16 {
		softmaxGrad16(lg, y, s, N, i0)
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
			want := (math.Exp(float64(orig[c*N+i])-mx)/sum - float64(y[c*N+i])) * float64(s[c*N+i])
			if got := float64(lg[c*N+i]); math.Abs(got-want) > 1e-6*float64(s[c*N+i]) || (s[c*N+i] == 0 && got != 0) {
				t.Fatalf("column %d, class %d: %v, float64 %v", i, c, got, want)
			}
		}
	}
}
