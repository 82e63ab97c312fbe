//go:build goexperiment.simd

package cnn

import (
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
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
		adam func(p, g, m, v []float32, k *adamConsts)
		add  func(dst, src []float32)
	}
	for _, ks := range []kernels{
		{"avx512", archsimd.X86.AVX512(), poolForward16, poolBackward16, adam16, addTo16},
		{"avx2", archsimd.X86.AVX2(), poolForward8, poolBackward8, adam8, addTo8},
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
			p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range p {
				p[i], g[i], m[i], v[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*1e-3), float32(rng.NormFloat64()*1e-4), float32(rng.Float64()*1e-6)
			}
			p2, m2, v2 := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
			c1, c2 := gomlxutil.AdamScalars(1e-3, 7)
			k := newAdamConsts(float32(c1), float32(c2))
			ks.adam(p, g, m, v, &k)
			adamScalar(p2, g, m2, v2, &k)
			ks.add(p, g)
			addToScalar(p2, g)
			for i := 0; i < n; i++ {
				if p[i] != p2[i] || m[i] != m2[i] || v[i] != v2[i] {
					t.Fatalf("%s n=%d: adam, add [%d]: p %v/%v, m %v/%v, v %v/%v", ks.name, n, i, p[i], p2[i], m[i], m2[i], v[i], v2[i])
				}
			}
		}
	}
}
