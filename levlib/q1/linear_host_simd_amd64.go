//go:build goexperiment.simd

package q1

import "simd/archsimd"

// The kernels of the linear classifier's host step (linear_host.go): AVX-512 (16 lanes) or AVX2 with
// FMA (two vectors of 8). Where the CPU has neither, the graph runs instead.

var (
	avx512LinearKernels = &linearKernels{matMul5: matMul5x16, softmaxGrad: softmaxGrad16}
	avx2LinearKernels   = &linearKernels{matMul5: matMul5x8x2, softmaxGrad: softmaxGrad8x2}
)

// hasAVX2FMA reports whether the CPU runs the AVX2 kernels.
func hasAVX2FMA() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

func init() {
	switch {
	case archsimd.X86.AVX512():
		hostLinearKernels = avx512LinearKernels
	case hasAVX2FMA():
		hostLinearKernels = avx2LinearKernels
	}
}

// matMul5x16 is linearKernels.matMul5: five accumulators of 16 lanes, one load of b and five
// broadcasts of a per t. Ten accumulators (one pass over b instead of two; they stay in registers when
// a is indexed from one slice, an array of them spills) were not faster: 0.6–1.2× depending on the
// shape, one core, the shapes of a fit at k = 1,000 and 20,000.
func matMul5x16(out, a, b []float32, t, n, n0, c0 int) {
	a0, a1, a2, a3, a4 := a[c0*t:(c0+1)*t], a[(c0+1)*t:(c0+2)*t], a[(c0+2)*t:(c0+3)*t], a[(c0+3)*t:(c0+4)*t], a[(c0+4)*t:(c0+5)*t]
	var o0, o1, o2, o3, o4 archsimd.Float32x16
	for i := range t {
		bi := archsimd.LoadFloat32x16((*[16]float32)(b[i*n+n0 : i*n+n0+16]))
		o0 = archsimd.BroadcastFloat32x16(a0[i]).MulAdd(bi, o0)
		o1 = archsimd.BroadcastFloat32x16(a1[i]).MulAdd(bi, o1)
		o2 = archsimd.BroadcastFloat32x16(a2[i]).MulAdd(bi, o2)
		o3 = archsimd.BroadcastFloat32x16(a3[i]).MulAdd(bi, o3)
		o4 = archsimd.BroadcastFloat32x16(a4[i]).MulAdd(bi, o4)
	}
	o0.Store((*[16]float32)(out[c0*n+n0 : c0*n+n0+16]))
	o1.Store((*[16]float32)(out[(c0+1)*n+n0 : (c0+1)*n+n0+16]))
	o2.Store((*[16]float32)(out[(c0+2)*n+n0 : (c0+2)*n+n0+16]))
	o3.Store((*[16]float32)(out[(c0+3)*n+n0 : (c0+3)*n+n0+16]))
	o4.Store((*[16]float32)(out[(c0+4)*n+n0 : (c0+4)*n+n0+16]))
}

// softmaxGrad16 is linearKernels.softmaxGrad on 16 columns: e_c = exp(l_c − max_c l_c), p_c = e_c /
// Σ_c e_c, out_c = (p_c − y_c)·s_c.
func softmaxGrad16(lg, y, s []float32, n, i0 int) {
	var l [10]archsimd.Float32x16
	mx := archsimd.LoadFloat32x16((*[16]float32)(lg[i0 : i0+16]))
	for c := range l {
		l[c] = archsimd.LoadFloat32x16((*[16]float32)(lg[c*n+i0 : c*n+i0+16]))
		mx = mx.Max(l[c])
	}
	var sum archsimd.Float32x16
	for c := range l {
		l[c] = exp16(l[c].Sub(mx))
		sum = sum.Add(l[c])
	}
	for c := range l {
		yc := archsimd.LoadFloat32x16((*[16]float32)(y[c*n+i0 : c*n+i0+16]))
		sc := archsimd.LoadFloat32x16((*[16]float32)(s[c*n+i0 : c*n+i0+16]))
		l[c].Div(sum).Sub(yc).Mul(sc).Store((*[16]float32)(lg[c*n+i0 : c*n+i0+16]))
	}
}

// Cephes' expf (cephes/single/expf.c): ln 2 split in a high part exact in float32 and a low
// remainder, and the coefficients of e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2, highest degree first. exp16
// and exp8 share them.
const (
	expLog2e = 1.44269504088896341
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
)

var expP = [...]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// exp16 is e^x on 16 lanes, for x ≤ 0 (Cephes' expf: x = n·ln 2 + r with n = round(x/ln 2), |r| ≤
// ln2/2, e^r by a degree-7 polynomial, then scaled by 2^n with VSCALEFPS; about 1 ulp; e^x underflows
// to 0 below about −103).
func exp16(x archsimd.Float32x16) archsimd.Float32x16 {
	x = x.Max(archsimd.BroadcastFloat32x16(-104))
	n := x.Mul(archsimd.BroadcastFloat32x16(expLog2e)).RoundToEvenScaled(0)
	r := x.Sub(n.Mul(archsimd.BroadcastFloat32x16(expLn2Hi))).Sub(n.Mul(archsimd.BroadcastFloat32x16(expLn2Lo)))
	p := archsimd.BroadcastFloat32x16(expP[0])
	for _, c := range expP[1:] {
		p = p.MulAdd(r, archsimd.BroadcastFloat32x16(c))
	}
	p = p.Mul(r.Mul(r)).Add(r).Add(archsimd.BroadcastFloat32x16(1))
	return p.Scale(n)
}

// matMul5x8x2 is linearKernels.matMul5 with AVX2: ten accumulators (five rows, two vectors of 8
// lanes), two loads of b and five broadcasts of a per t.
func matMul5x8x2(out, a, b []float32, t, n, n0, c0 int) {
	a = a[c0*t : (c0+5)*t]
	var o0, o1, o2, o3, o4, p0, p1, p2, p3, p4 archsimd.Float32x8
	for i := range t {
		bi := b[i*n+n0 : i*n+n0+16]
		lo := archsimd.LoadFloat32x8((*[8]float32)(bi[:8]))
		hi := archsimd.LoadFloat32x8((*[8]float32)(bi[8:]))
		ai := a[i:]
		v := archsimd.BroadcastFloat32x8(ai[0])
		o0, p0 = v.MulAdd(lo, o0), v.MulAdd(hi, p0)
		v = archsimd.BroadcastFloat32x8(ai[t])
		o1, p1 = v.MulAdd(lo, o1), v.MulAdd(hi, p1)
		v = archsimd.BroadcastFloat32x8(ai[2*t])
		o2, p2 = v.MulAdd(lo, o2), v.MulAdd(hi, p2)
		v = archsimd.BroadcastFloat32x8(ai[3*t])
		o3, p3 = v.MulAdd(lo, o3), v.MulAdd(hi, p3)
		v = archsimd.BroadcastFloat32x8(ai[4*t])
		o4, p4 = v.MulAdd(lo, o4), v.MulAdd(hi, p4)
	}
	r := out[c0*n+n0:]
	o0.Store((*[8]float32)(r[:8]))
	p0.Store((*[8]float32)(r[8:16]))
	r = out[(c0+1)*n+n0:]
	o1.Store((*[8]float32)(r[:8]))
	p1.Store((*[8]float32)(r[8:16]))
	r = out[(c0+2)*n+n0:]
	o2.Store((*[8]float32)(r[:8]))
	p2.Store((*[8]float32)(r[8:16]))
	r = out[(c0+3)*n+n0:]
	o3.Store((*[8]float32)(r[:8]))
	p3.Store((*[8]float32)(r[8:16]))
	r = out[(c0+4)*n+n0:]
	o4.Store((*[8]float32)(r[:8]))
	p4.Store((*[8]float32)(r[8:16]))
}

// softmaxGrad8x2 is softmaxGrad16 with AVX2, on the two halves of the 16 columns.
func softmaxGrad8x2(lg, y, s []float32, n, i0 int) {
	for h := i0; h < i0+16; h += 8 {
		var l [10]archsimd.Float32x8
		mx := archsimd.LoadFloat32x8((*[8]float32)(lg[h : h+8]))
		for c := range l {
			l[c] = archsimd.LoadFloat32x8((*[8]float32)(lg[c*n+h : c*n+h+8]))
			mx = mx.Max(l[c])
		}
		var sum archsimd.Float32x8
		for c := range l {
			l[c] = exp8(l[c].Sub(mx))
			sum = sum.Add(l[c])
		}
		for c := range l {
			yc := archsimd.LoadFloat32x8((*[8]float32)(y[c*n+h : c*n+h+8]))
			sc := archsimd.LoadFloat32x8((*[8]float32)(s[c*n+h : c*n+h+8]))
			l[c].Div(sum).Sub(yc).Mul(sc).Store((*[8]float32)(lg[c*n+h : c*n+h+8]))
		}
	}
}

// exp8 is exp16 on 8 lanes with AVX2, for x ≤ 0, where there is no VSCALEFPS: 2^n is built from its
// exponent bits, (n+127)·2^23, so x is first clamped at −87.3 (n ≥ −126, a normal float): e^x is then
// at least 1.2e-38 where exp16 gives smaller values or 0, a difference a softmax over values ≥ 1 does
// not see.
func exp8(x archsimd.Float32x8) archsimd.Float32x8 {
	x = x.Max(archsimd.BroadcastFloat32x8(-87.3))
	n := x.Mul(archsimd.BroadcastFloat32x8(expLog2e)).RoundToEven()
	r := x.Sub(n.Mul(archsimd.BroadcastFloat32x8(expLn2Hi))).Sub(n.Mul(archsimd.BroadcastFloat32x8(expLn2Lo)))
	p := archsimd.BroadcastFloat32x8(expP[0])
	for _, c := range expP[1:] {
		p = p.MulAdd(r, archsimd.BroadcastFloat32x8(c))
	}
	p = p.Mul(r.Mul(r)).Add(r).Add(archsimd.BroadcastFloat32x8(1))
	scale := n.ConvertToInt32().Add(archsimd.BroadcastInt32x8(127)).ShiftAllLeft(23).AsFloat32x8()
	return p.Mul(scale)
}
