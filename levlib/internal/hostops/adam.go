package hostops

import (
	"math"

	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
)

// AdamConsts are Adam's constants as the graph makes them (a float64 value converted to float32) and
// the step's scalars c1, c2 (gomlxutil.AdamScalars).
type AdamConsts struct{ b1, b1c, b2, b2c, eps, c1, c2 float32 }

// NewAdamConsts returns the constants of the step whose scalars are c1, c2.
func NewAdamConsts(c1, c2 float32) AdamConsts {
	f64 := [5]float64{gomlxutil.AdamBeta1, 1 - gomlxutil.AdamBeta1, gomlxutil.AdamBeta2, 1 - gomlxutil.AdamBeta2, gomlxutil.AdamEps}
	return AdamConsts{float32(f64[0]), float32(f64[1]), float32(f64[2]), float32(f64[3]), float32(f64[4]), c1, c2}
}

// adamKernel is Adam on one range of elements; the vector versions replace it at init where the CPU
// allows (adam_simd_amd64.go).
var adamKernel = adamScalar

// Adam is gomlxutil.AdamUpdate on the host, on all cores: p, m, v updated in place from the gradient g
// (all of p's length), with the same float32 operations in the same order as the graph's (no fused
// multiply-add), so the results are bitwise the graph's:
//
//	m' = β₁m + (1−β₁)g,   v' = β₂v + (1−β₂)g²,   p' = p − (m' / (√v'·c₂ + ε))·c₁.
func Adam(p, g, m, v []float32, k *AdamConsts) {
	gomlxutil.ParallelFor(len(p), func(lo, hi int) { adamKernel(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], k) })
}

// AdamSerial is Adam on the calling goroutine, for callers that already run one task per core.
func AdamSerial(p, g, m, v []float32, k *AdamConsts) { adamKernel(p, g, m, v, k) }

// adamScalar: an explicit float32 conversion after every product keeps the compiler from fusing a
// multiply-add, which would round differently from the graph.
func adamScalar(p, g, m, v []float32, k *AdamConsts) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, gi := range g {
		mi := float32(m[i]*k.b1) + float32(gi*k.b1c)
		vi := float32(v[i]*k.b2) + float32(float32(gi*gi)*k.b2c)
		den := float32(float32(math.Sqrt(float64(vi)))*k.c2) + k.eps
		p[i] -= float32(float32(mi/den) * k.c1)
		m[i], v[i] = mi, vi
	}
}
