//go:build goexperiment.simd

package cnn

import (
	"simd/archsimd"
)

// Vector versions of the host passes of group_host.go: AVX-512 (16 float32 lanes) or AVX2 (8),
// the scalar kernel for the tail. VMAXPS, VCMPPS, VADDPS and VSUBPS give what the scalar operations
// give, so the results are the scalar kernels'.

func init() {
	switch {
	case archsimd.X86.AVX512():
		poolForwardKernel, poolBackwardKernel, addToKernel = poolForward16, poolBackward16, addTo16
	case archsimd.X86.AVX2():
		poolForwardKernel, poolBackwardKernel, addToKernel = poolForward8, poolBackward8, addTo8
	}
}

func addTo16(dst, src []float32) {
	n := len(dst) &^ 15
	for i := 0; i < n; i += 16 {
		archsimd.LoadFloat32x16Slice(dst[i:]).Add(archsimd.LoadFloat32x16Slice(src[i:])).StoreSlice(dst[i:])
	}
	addToScalar(dst[n:], src[n:len(dst)])
}

func addTo8(dst, src []float32) {
	n := len(dst) &^ 7
	for i := 0; i < n; i += 8 {
		archsimd.LoadFloat32x8Slice(dst[i:]).Add(archsimd.LoadFloat32x8Slice(src[i:])).StoreSlice(dst[i:])
	}
	addToScalar(dst[n:], src[n:len(dst)])
}

func poolForward16(a []float32, z [4][]float32) {
	n := len(a) &^ 15
	zero := archsimd.BroadcastFloat32x16(0)
	for i := 0; i < n; i += 16 {
		z0 := archsimd.LoadFloat32x16Slice(z[0][i:])
		z1 := archsimd.LoadFloat32x16Slice(z[1][i:])
		z2 := archsimd.LoadFloat32x16Slice(z[2][i:])
		z3 := archsimd.LoadFloat32x16Slice(z[3][i:])
		z0.Max(z1).Max(z2.Max(z3)).Max(zero).StoreSlice(a[i:])
	}
	poolForwardScalar(a[n:], [4][]float32{z[0][n:], z[1][n:], z[2][n:], z[3][n:]})
}

func poolBackward16(dz [4][]float32, d, a []float32, z [4][]float32) {
	n := len(d) &^ 15
	zero := archsimd.BroadcastFloat32x16(0)
	for i := 0; i < n; i += 16 {
		ai := archsimd.LoadFloat32x16Slice(a[i:])
		rest := archsimd.LoadFloat32x16Slice(d[i:]).Masked(ai.Greater(zero))
		for q := 0; q < 3; q++ {
			out := rest.Masked(archsimd.LoadFloat32x16Slice(z[q][i:]).Equal(ai))
			out.StoreSlice(dz[q][i:])
			rest = rest.Sub(out)
		}
		rest.StoreSlice(dz[3][i:])
	}
	poolBackwardScalar([4][]float32{dz[0][n:], dz[1][n:], dz[2][n:], dz[3][n:]}, d[n:], a[n:],
		[4][]float32{z[0][n:], z[1][n:], z[2][n:], z[3][n:]})
}

func poolForward8(a []float32, z [4][]float32) {
	n := len(a) &^ 7
	zero := archsimd.BroadcastFloat32x8(0)
	for i := 0; i < n; i += 8 {
		z0 := archsimd.LoadFloat32x8Slice(z[0][i:])
		z1 := archsimd.LoadFloat32x8Slice(z[1][i:])
		z2 := archsimd.LoadFloat32x8Slice(z[2][i:])
		z3 := archsimd.LoadFloat32x8Slice(z[3][i:])
		z0.Max(z1).Max(z2.Max(z3)).Max(zero).StoreSlice(a[i:])
	}
	poolForwardScalar(a[n:], [4][]float32{z[0][n:], z[1][n:], z[2][n:], z[3][n:]})
}

func poolBackward8(dz [4][]float32, d, a []float32, z [4][]float32) {
	n := len(d) &^ 7
	zero := archsimd.BroadcastFloat32x8(0)
	for i := 0; i < n; i += 8 {
		ai := archsimd.LoadFloat32x8Slice(a[i:])
		rest := archsimd.LoadFloat32x8Slice(d[i:]).Masked(ai.Greater(zero))
		for q := 0; q < 3; q++ {
			out := rest.Masked(archsimd.LoadFloat32x8Slice(z[q][i:]).Equal(ai))
			out.StoreSlice(dz[q][i:])
			rest = rest.Sub(out)
		}
		rest.StoreSlice(dz[3][i:])
	}
	poolBackwardScalar([4][]float32{dz[0][n:], dz[1][n:], dz[2][n:], dz[3][n:]}, d[n:], a[n:],
		[4][]float32{z[0][n:], z[1][n:], z[2][n:], z[3][n:]})
}
