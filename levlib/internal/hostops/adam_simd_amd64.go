//go:build goexperiment.simd

package hostops

import "simd/archsimd"

// Vector versions of adamScalar: AVX-512 (16 float32 lanes) or AVX2 (8), the scalar kernel for the
// tail. VMULPS, VADDPS, VSUBPS, VDIVPS and VSQRTPS round as the scalar operations do (no fused
// multiply-add is used), so the results are the scalar kernel's.

func init() {
	switch {
	case archsimd.X86.AVX512():
		adamKernel = adam16
	case archsimd.X86.AVX2():
		adamKernel = adam8
	}
}

func adam16(p, g, m, v []float32, k *AdamConsts) {
	n := len(p) &^ 15
	b1, b1c := archsimd.BroadcastFloat32x16(k.b1), archsimd.BroadcastFloat32x16(k.b1c)
	b2, b2c := archsimd.BroadcastFloat32x16(k.b2), archsimd.BroadcastFloat32x16(k.b2c)
	eps, c1, c2 := archsimd.BroadcastFloat32x16(k.eps), archsimd.BroadcastFloat32x16(k.c1), archsimd.BroadcastFloat32x16(k.c2)
	for i := 0; i < n; i += 16 {
		gi := archsimd.LoadFloat32x16Slice(g[i:])
		mi := archsimd.LoadFloat32x16Slice(m[i:]).Mul(b1).Add(gi.Mul(b1c))
		vi := archsimd.LoadFloat32x16Slice(v[i:]).Mul(b2).Add(gi.Mul(gi).Mul(b2c))
		den := vi.Sqrt().Mul(c2).Add(eps)
		archsimd.LoadFloat32x16Slice(p[i:]).Sub(mi.Div(den).Mul(c1)).StoreSlice(p[i:])
		mi.StoreSlice(m[i:])
		vi.StoreSlice(v[i:])
	}
	adamScalar(p[n:], g[n:], m[n:], v[n:], k)
}

func adam8(p, g, m, v []float32, k *AdamConsts) {
	n := len(p) &^ 7
	b1, b1c := archsimd.BroadcastFloat32x8(k.b1), archsimd.BroadcastFloat32x8(k.b1c)
	b2, b2c := archsimd.BroadcastFloat32x8(k.b2), archsimd.BroadcastFloat32x8(k.b2c)
	eps, c1, c2 := archsimd.BroadcastFloat32x8(k.eps), archsimd.BroadcastFloat32x8(k.c1), archsimd.BroadcastFloat32x8(k.c2)
	for i := 0; i < n; i += 8 {
		gi := archsimd.LoadFloat32x8Slice(g[i:])
		mi := archsimd.LoadFloat32x8Slice(m[i:]).Mul(b1).Add(gi.Mul(b1c))
		vi := archsimd.LoadFloat32x8Slice(v[i:]).Mul(b2).Add(gi.Mul(gi).Mul(b2c))
		den := vi.Sqrt().Mul(c2).Add(eps)
		archsimd.LoadFloat32x8Slice(p[i:]).Sub(mi.Div(den).Mul(c1)).StoreSlice(p[i:])
		mi.StoreSlice(m[i:])
		vi.StoreSlice(v[i:])
	}
	adamScalar(p[n:], g[n:], m[n:], v[n:], k)
}
