//go:build goexperiment.simd

package cnn

import (
	"math/rand/v2"
	"simd/archsimd"
	"testing"
)

// TestHostKernelsVectorEqualScalar runs the AVX-512 and AVX2 kernels of the host passes against the
// scalar ones on random data full of ties (values on a coarse grid, so that window positions often
// share the maximum), zeros and negatives, at lengths that leave vector tails, and requires equal
// values.
func TestHostKernelsVectorEqualScalar(t *testing.T) {
	type kernels struct {
		name string
		ok   bool
		pf   func([]float32, [4][]float32)
		pb   func([4][]float32, []float32, []float32, [4][]float32)
		add  func(dst, src []float32)
	}
	for _, ks := range []kernels{
		{"avx512", archsimd.X86.AVX512(), poolForward16, poolBackward16, addTo16},
		{"avx2", archsimd.X86.AVX2(), poolForward8, poolBackward8, addTo8},
	} {
		if !ks.ok {
			t.Logf("%s: not supported by this CPU, skipped", ks.name)
			continue
		}
		rng := rand.New(rand.NewPCG(1, 2))
		grid := func() float32 { return float32(rng.IntN(7)-3) / 4 }
		for _, n := range []int{1, 15, 16, 17, 100, 1027} {
			var z, dz, dzWant [4][]float32
			for q := range z {
				z[q], dz[q], dzWant[q] = make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range z[q] {
					z[q][i] = grid()
				}
			}
			a, aWant, d := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range d {
				d[i] = float32(rng.NormFloat64())
			}
			ks.pf(a, z)
			poolForwardScalar(aWant, z)
			ks.pb(dz, d, aWant, z)
			poolBackwardScalar(dzWant, d, aWant, z)
			for i := 0; i < n; i++ {
				if a[i] != aWant[i] {
					t.Fatalf("%s n=%d: pool forward [%d] = %v, scalar %v", ks.name, n, i, a[i], aWant[i])
				}
				for q := 0; q < 4; q++ {
					if dz[q][i] != dzWant[q][i] {
						t.Fatalf("%s n=%d: pool backward q=%d [%d] = %v, scalar %v", ks.name, n, q, i, dz[q][i], dzWant[q][i])
					}
				}
			}
			p, g := make([]float32, n), make([]float32, n)
			for i := range p {
				p[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*1e-3)
			}
			p2 := append([]float32(nil), p...)
			ks.add(p, g)
			addToScalar(p2, g)
			for i := 0; i < n; i++ {
				if p[i] != p2[i] {
					t.Fatalf("%s n=%d: add [%d]: %v, scalar %v", ks.name, n, i, p[i], p2[i])
				}
			}
		}
	}
}
