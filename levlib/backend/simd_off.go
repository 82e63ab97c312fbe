//go:build !(amd64 && goexperiment.simd)

package backend

// MatMulPath says which matrix-product kernels the pure-Go backend uses in this binary on this CPU.
func MatMulPath() string {
	return "scalar matrix products (built without GOEXPERIMENT=simd; on amd64 a build with it multiplies about 10x faster)"
}
