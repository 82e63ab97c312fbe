//go:build goexperiment.simd

package hostops

import (
	"fmt"
	"math"
	"runtime"
	"simd/archsimd"
	"sync"
	"testing"
	"time"
)

// The machine's float32 peak: twelve independent chains a ← a·x + y of vector fused multiply-adds, more
// than the FMA units' latency × throughput needs on the CPUs we run on (Zen 4: one 512-bit or two 256-bit
// FMAs a cycle, latency 4; Intel Xeon: up to two 512-bit, latency 4), so that the loop is bound by
// the FMA units alone. Each chain starts from its own value: chains that start equal compute the same
// thing, and the compiler merges them (it did, and the "peak" came out three times too high).
const peakChains = 12

// fmaX, fmaY keep the chains finite and normal: a → y/(1−x) = 1.
const fmaX, fmaY = 0.999, 0.001

func peakFMA16(out []float32, start float32, n int) {
	x, y := archsimd.BroadcastFloat32x16(fmaX), archsimd.BroadcastFloat32x16(fmaY)
	a0, a1, a2, a3 := archsimd.BroadcastFloat32x16(start), archsimd.BroadcastFloat32x16(2*start), archsimd.BroadcastFloat32x16(3*start), archsimd.BroadcastFloat32x16(4*start)
	a4, a5, a6, a7 := archsimd.BroadcastFloat32x16(5*start), archsimd.BroadcastFloat32x16(6*start), archsimd.BroadcastFloat32x16(7*start), archsimd.BroadcastFloat32x16(8*start)
	a8, a9, a10, a11 := archsimd.BroadcastFloat32x16(9*start), archsimd.BroadcastFloat32x16(10*start), archsimd.BroadcastFloat32x16(11*start), archsimd.BroadcastFloat32x16(12*start)
	for range n {
		a0, a1, a2, a3 = a0.MulAdd(x, y), a1.MulAdd(x, y), a2.MulAdd(x, y), a3.MulAdd(x, y)
		a4, a5, a6, a7 = a4.MulAdd(x, y), a5.MulAdd(x, y), a6.MulAdd(x, y), a7.MulAdd(x, y)
		a8, a9, a10, a11 = a8.MulAdd(x, y), a9.MulAdd(x, y), a10.MulAdd(x, y), a11.MulAdd(x, y)
	}
	for i, a := range []archsimd.Float32x16{a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11} {
		a.StoreSlice(out[16*i:])
	}
}

func peakFMA8(out []float32, start float32, n int) {
	x, y := archsimd.BroadcastFloat32x8(fmaX), archsimd.BroadcastFloat32x8(fmaY)
	a0, a1, a2, a3 := archsimd.BroadcastFloat32x8(start), archsimd.BroadcastFloat32x8(2*start), archsimd.BroadcastFloat32x8(3*start), archsimd.BroadcastFloat32x8(4*start)
	a4, a5, a6, a7 := archsimd.BroadcastFloat32x8(5*start), archsimd.BroadcastFloat32x8(6*start), archsimd.BroadcastFloat32x8(7*start), archsimd.BroadcastFloat32x8(8*start)
	a8, a9, a10, a11 := archsimd.BroadcastFloat32x8(9*start), archsimd.BroadcastFloat32x8(10*start), archsimd.BroadcastFloat32x8(11*start), archsimd.BroadcastFloat32x8(12*start)
	for range n {
		a0, a1, a2, a3 = a0.MulAdd(x, y), a1.MulAdd(x, y), a2.MulAdd(x, y), a3.MulAdd(x, y)
		a4, a5, a6, a7 = a4.MulAdd(x, y), a5.MulAdd(x, y), a6.MulAdd(x, y), a7.MulAdd(x, y)
		a8, a9, a10, a11 = a8.MulAdd(x, y), a9.MulAdd(x, y), a10.MulAdd(x, y), a11.MulAdd(x, y)
	}
	for i, a := range []archsimd.Float32x8{a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11} {
		a.StoreSlice(out[8*i:])
	}
}

var peakKernels = []struct {
	name  string
	ok    bool
	lanes int
	run   func(out []float32, start float32, n int)
}{{"avx512", archsimd.X86.AVX512(), 16, peakFMA16}, {"avx2", archsimd.X86.AVX2() && archsimd.X86.FMA(), 8, peakFMA8}}

// TestPeakFMAKernels checks that every lane of every chain holds a_n of a ← a·x + y from its own start
// (the recurrence in float64, within float32 rounding), so that the benchmark times the work it counts.
func TestPeakFMAKernels(t *testing.T) {
	const start, n = 0.25, 37
	for _, k := range peakKernels {
		if !k.ok {
			t.Logf("%s: not supported by this CPU, skipped", k.name)
			continue
		}
		out := make([]float32, peakChains*k.lanes)
		k.run(out, start, n)
		for c := range peakChains {
			want := float64(float32(start * float64(c+1)))
			for range n {
				want = want*float64(float32(fmaX)) + float64(float32(fmaY))
			}
			for l := range k.lanes {
				if got := float64(out[c*k.lanes+l]); math.Abs(got-want) > 1e-6*math.Abs(want) {
					t.Fatalf("%s: chain %d lane %d = %.9g, want %.9g", k.name, c, l, got, want)
				}
			}
		}
	}
}

// BenchmarkPeakFMA measures the float32 arithmetic rate this machine's vector FMA units reach — the
// ceiling for any float32 kernel on it, such as the CNN's (levlib/cnn ForwardFLOPs, TrainFLOPs; README
// "Speed") — on one goroutine and on GOMAXPROCS goroutines, each running peakChains chains, with
// AVX-512 and with AVX2. GFLOP/s counts two operations per lane per FMA and is the fastest of
// peakRounds rounds per op: a peak, which a neighbour on a shared machine only lowers (before there
// were rounds, one of four runs measured 136 GFLOP/s at 2 goroutines against 230–233 in the others).
func BenchmarkPeakFMA(b *testing.B) {
	const n = 50_000_000 // per goroutine and round: 0.17 s (AVX-512) on the AMD EPYC host
	const peakRounds = 5
	for _, k := range peakKernels {
		for _, g := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", k.name, g), func(b *testing.B) {
				if !k.ok {
					b.Skipf("%s: not supported by this CPU", k.name)
				}
				best := 0.0
				for b.Loop() {
					for range peakRounds {
						t0 := time.Now()
						var wg sync.WaitGroup
						for i := range g {
							wg.Go(func() { k.run(make([]float32, peakChains*k.lanes), float32(i+1)/64, n) })
						}
						wg.Wait()
						best = max(best, float64(g)*n*peakChains*float64(k.lanes)*2/time.Since(t0).Seconds()/1e9)
					}
				}
				b.ReportMetric(best, "GFLOP/s")
			})
		}
	}
}
