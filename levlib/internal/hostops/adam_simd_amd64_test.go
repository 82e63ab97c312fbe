//go:build goexperiment.simd

package hostops

import (
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
)

// TestAdamVectorEqualScalar runs the AVX-512 and AVX2 Adam kernels against the scalar one on random
// parameters, gradients and moments, at lengths that leave vector tails, and requires equal values
// (the scalar kernel is the graph's operations in the graph's order: levlib/cnn's
// TestGroupStepperMatchesColStepper compares a whole host-fused step with the graph's bitwise).
func TestAdamVectorEqualScalar(t *testing.T) {
	for _, ks := range []struct {
		name string
		ok   bool
		adam func(p, g, m, v []float32, k *AdamConsts)
	}{{"avx512", archsimd.X86.AVX512(), adam16}, {"avx2", archsimd.X86.AVX2(), adam8}} {
		if !ks.ok {
			t.Logf("%s: not supported by this CPU, skipped", ks.name)
			continue
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for _, n := range []int{1, 15, 16, 17, 100, 1027} {
			p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range p {
				p[i], g[i], m[i], v[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*1e-3), float32(rng.NormFloat64()*1e-4), float32(rng.Float64()*1e-6)
			}
			p2, m2, v2 := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
			c1, c2 := gomlxutil.AdamScalars(1e-3, 7)
			k := NewAdamConsts(float32(c1), float32(c2))
			ks.adam(p, g, m, v, &k)
			adamScalar(p2, g, m2, v2, &k)
			for i := 0; i < n; i++ {
				if p[i] != p2[i] || m[i] != m2[i] || v[i] != v2[i] {
					t.Fatalf("%s n=%d: [%d]: p %v/%v, m %v/%v, v %v/%v", ks.name, n, i, p[i], p2[i], m[i], m2[i], v[i], v2[i])
				}
			}
		}
	}
}
