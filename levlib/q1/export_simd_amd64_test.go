//go:build goexperiment.simd

package q1

func init() {
	if hasAVX2FMA() {
		HostLinearAVX2 = func() func() {
			old := hostLinearKernels
			hostLinearKernels = avx2LinearKernels
			return func() { hostLinearKernels = old }
		}
	}
}
