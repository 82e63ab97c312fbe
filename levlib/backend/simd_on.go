//go:build amd64 && goexperiment.simd

package backend

import (
	"os"
	"simd/archsimd"
	"strings"
)

// AVX-512 and AVX2 matrix-product kernels.

// MatMulPath says which matrix-product kernels the pure-Go backend uses in this binary on this CPU.
func MatMulPath() string {
	off := func(env string) bool {
		v := strings.ToLower(os.Getenv(env))
		return v == "0" || v == "false"
	}
	switch {
	case off("GOMLX_DOT_MATMUL"):
		return "scalar matrix products (GOMLX_DOT_MATMUL=false)"
	case archsimd.X86.AVX512() && !off("GOMLX_SIMD_AVX512"):
		return "AVX-512 matrix products"
	case archsimd.X86.AVX2() && !off("GOMLX_SIMD_AVX2"):
		return "AVX2 matrix products"
	}
	return "scalar matrix products (this CPU has neither AVX-512 nor AVX2)"
}
