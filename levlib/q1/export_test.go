package q1

// HostLinear reports whether FitLinearGroup's float32 step can run on the host in this build on this
// CPU (AVX-512), and sets whether it may (on) until the returned function restores the setting.
func HostLinear(on bool) (available bool, restore func()) {
	old := hostLinearOff
	hostLinearOff = !on
	return hostLinearKernels != nil, func() { hostLinearOff = old }
}

// HostLinearAVX2, where the build and the CPU have the AVX2 kernels, makes the host step use them
// (instead of AVX-512's) until the returned function restores the choice; nil elsewhere.
var HostLinearAVX2 func() (restore func())
