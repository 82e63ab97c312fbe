package rankstat

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// sub is a − b in float64 (a constant expression would be exact).
func sub(a, b float64) float64 { return a - b }

func TestTieWithin(t *testing.T) {
	const tol = 1e-9
	for _, tc := range []struct {
		name   string
		scores []float64
		tol    float64
		want   []float64
		info   TieInfo
	}{
		{"empty", nil, tol, []float64{}, TieInfo{Tolerance: tol}},
		{"no ties", []float64{0.3, 0.1, 0.2}, tol, []float64{0.3, 0.1, 0.2}, TieInfo{Tolerance: tol}},
		{"pair within tol to its max", []float64{0.5, 0.5 + 0.5e-9, 0.1}, tol, []float64{0.5 + 0.5e-9, 0.5 + 0.5e-9, 0.1},
			TieInfo{Tolerance: tol, Groups: 1, Rows: 2, Largest: 2, MaxSpan: sub(0.5+0.5e-9, 0.5)}},
		{"gap above tol splits", []float64{0.5, 0.5 + 1.5e-9}, tol, []float64{0.5, 0.5 + 1.5e-9}, TieInfo{Tolerance: tol}},
		// 0, 0.6, 1.2, 1.8 (×1e-9): each gap ≤ tol, so one chained group spanning 1.8·tol.
		{"chain", []float64{1.8e-9, 0, 1.2e-9, 0.6e-9, 1}, tol, []float64{1.8e-9, 1.8e-9, 1.8e-9, 1.8e-9, 1},
			TieInfo{Tolerance: tol, Groups: 1, Rows: 4, Largest: 4, MaxSpan: 1.8e-9}},
		{"ulps of 1", []float64{1, math.Nextafter(1, 0), 0.2, math.Nextafter(1, 2), 0.2}, tol,
			[]float64{math.Nextafter(1, 2), math.Nextafter(1, 2), 0.2, math.Nextafter(1, 2), 0.2},
			TieInfo{Tolerance: tol, Groups: 2, Rows: 5, Largest: 3, MaxSpan: math.Nextafter(1, 2) - math.Nextafter(1, 0)}},
		{"tol 0: exact duplicates only", []float64{1, math.Nextafter(1, 0), 1, 0.2, 0.2}, 0,
			[]float64{1, math.Nextafter(1, 0), 1, 0.2, 0.2}, TieInfo{Groups: 2, Rows: 4, Largest: 2}},
		{"infinities", []float64{math.Inf(1), 3, math.Inf(1), math.Inf(-1), math.Inf(-1)}, tol,
			[]float64{math.Inf(1), 3, math.Inf(1), math.Inf(-1), math.Inf(-1)}, TieInfo{Tolerance: tol, Groups: 2, Rows: 4, Largest: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.scores)
			got, info, err := TieWithin(in, tc.tol)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) || info != tc.info {
				t.Errorf("got %v %+v, want %v %+v", got, info, tc.want, tc.info)
			}
			if !slices.Equal(in, tc.scores) {
				t.Errorf("input modified: %v", in)
			}
		})
	}
	if _, _, err := TieWithin([]float64{1, math.NaN()}, tol); !errors.Is(err, ErrNaN) || err.Error() != "NaN score: scores[1]" {
		t.Errorf("NaN: %v", err)
	}
	for _, bad := range []float64{-1e-9, math.NaN(), math.Inf(1)} {
		if _, _, err := TieWithin([]float64{1, 2}, bad); err == nil {
			t.Errorf("tol %v: no error", bad)
		}
	}
}

// TestTieWithinMonotone checks on seeded random scores with clusters that TieWithin is a
// non-decreasing map, that tied values are the maxima of their groups, and that distinct output values
// are more than tol apart.
func TestTieWithinMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		n := 1 + rng.IntN(400)
		tol := []float64{0, 1e-9, 1e-3}[trial%3]
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(50))/50 + tol*2*rng.Float64() // clusters of width 2·tol
		}
		y, info, err := TieWithin(x, tol)
		if err != nil {
			t.Fatal(err)
		}
		rows := 0
		groupMax := map[float64]float64{} // tied value → the largest x mapped to it
		for i := range x {
			if m, ok := groupMax[y[i]]; !ok || x[i] > m {
				groupMax[y[i]] = x[i]
			}
		}
		for i := range x {
			if groupMax[y[i]] != y[i] {
				t.Fatalf("y[%d] = %v, but its group's largest x is %v", i, y[i], groupMax[y[i]])
			}
			shared := false
			for j := range x {
				if x[i] < x[j] && y[i] > y[j] {
					t.Fatalf("order reversed: x %v < %v, y %v > %v", x[i], x[j], y[i], y[j])
				}
				if y[i] != y[j] && math.Abs(y[i]-y[j]) <= tol {
					t.Fatalf("distinct values %v and %v within tol %v", y[i], y[j], tol)
				}
				shared = shared || j != i && y[j] == y[i]
			}
			if shared {
				rows++
			}
		}
		if rows != info.Rows {
			t.Errorf("n=%d tol=%v: %d rows share a value, info %+v", n, tol, rows, info)
		}
	}
}

// TestTiesDecideWeightedTau reproduces the referee's finding and checks the fix, on seeded synthetic
// leverage-like scores: x has 18 rows within a few ulps of 1 (as MNIST RAW has) and a bulk in
// [0.001, 0.05]; y is a second basis's scores that ranks those rows differently. Reassigning which of
// the 18 rows gets which near-1 value, and jittering them by ±4 ulps, moves weighted tau by more than
// 0.01 today; after TieWithin(·, DefaultTieTolerance) weighted tau, Kendall tau-b, Spearman and the
// top-k overlaps (k = 10, 18, 50) are identical in every trial.
func TestTiesDecideWeightedTau(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261130, 7))
	const n, top = 400, 18
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = 0.001 + 0.049*rng.Float64()
		y[i] = x[i] + 0.01*rng.Float64()
	}
	hot := rng.Perm(n)[:top] // the rows at ℓ ≈ 1
	for _, i := range hot {
		x[i] = 1
		y[i] = 0.2 + 0.8*rng.Float64() // high in y too, but in their own order
	}
	ulpJitter := func(v float64) float64 {
		for range rng.IntN(5) {
			v = math.Nextafter(v, 0)
		}
		if rng.IntN(3) == 0 {
			v = math.Nextafter(v, 2)
		}
		return v
	}
	type stats struct {
		tau, rho, wt float64
		overlap      []Overlap
	}
	measure := func(x, y []float64) stats {
		k, err := KendallTauB(x, y)
		if err != nil {
			t.Fatal(err)
		}
		rho, _ := Spearman(x, y)
		wt, _ := WeightedTau(x, y)
		ov, _ := TopKOverlap(x, y, []int{10, top, 50})
		return stats{k.TauB, rho, wt, ov}
	}
	var first stats
	lo, hi := math.Inf(1), math.Inf(-1)
	for trial := range 40 {
		xp := slices.Clone(x)
		vals := make([]float64, top)
		for j := range vals {
			vals[j] = ulpJitter(1)
		}
		for j, i := range hot {
			xp[i] = vals[j]
		}
		raw, _ := WeightedTau(xp, y)
		lo, hi = math.Min(lo, raw), math.Max(hi, raw)
		tx, info, err := TieWithin(xp, DefaultTieTolerance)
		if err != nil {
			t.Fatal(err)
		}
		if info.Largest < top {
			t.Fatalf("the %d rows at ℓ ≈ 1 are not one group: %+v", top, info)
		}
		ty, _, _ := TieWithin(y, DefaultTieTolerance)
		got := measure(tx, ty)
		if trial == 0 {
			first = got
			continue
		}
		if !reflect.DeepEqual(got, first) {
			t.Fatalf("trial %d: after TieWithin %+v, trial 0 %+v", trial, got, first)
		}
	}
	if hi-lo < 0.01 {
		t.Errorf("without ties weighted tau ranges over [%.4f, %.4f]: the test no longer shows the problem", lo, hi)
	}
	t.Logf("without TieWithin weighted tau ranges over [%.4f, %.4f]; with it %.4f in every trial", lo, hi, first.wt)
}

func TestBoundaryTies(t *testing.T) {
	s := []float64{3, 2, 5, 2, 2, 1, 1}
	for _, tc := range []struct {
		name string
		f    func([]float64, int) (Boundary, error)
		k    int
		want Boundary
	}{
		{"top k=1", BoundaryTies, 1, Boundary{K: 1, Value: 5, Inside: 1}},
		{"top k=3: one of three 2s in", BoundaryTies, 3, Boundary{K: 3, Value: 2, Inside: 1, Outside: 2}},
		{"top k=5: all 2s in", BoundaryTies, 5, Boundary{K: 5, Value: 2, Inside: 3}},
		{"top k=n", BoundaryTies, 7, Boundary{K: 7, Value: 1, Inside: 2}},
		{"bottom k=1", BottomBoundaryTies, 1, Boundary{K: 1, Value: 1, Inside: 1, Outside: 1}},
		{"bottom k=4", BottomBoundaryTies, 4, Boundary{K: 4, Value: 2, Inside: 2, Outside: 1}},
	} {
		b, err := tc.f(s, tc.k)
		if err != nil || b != tc.want || b.Arbitrary() != (tc.want.Outside > 0) {
			t.Errorf("%s: %+v %v, want %+v", tc.name, b, err, tc.want)
		}
	}
	// Inside agrees with TopK: the selected rows with the k-th value.
	if top := TopK(s, 3); s[top[2]] != 2 || top[2] != 1 {
		t.Errorf("TopK(s, 3) = %v: the tie at 2 should go to index 1", top)
	}
	// Rows within two ulps of 1 are ties only after TieWithin.
	below := math.Nextafter(1, 0)
	l := []float64{0.3, 1, below, math.Nextafter(below, 0), 0.9}
	if b, _ := BoundaryTies(l, 2); b != (Boundary{K: 2, Value: below, Inside: 1}) || b.Arbitrary() {
		t.Errorf("before TieWithin: %+v", b)
	}
	tl, _, _ := TieWithin(l, DefaultTieTolerance)
	if b, _ := BoundaryTies(tl, 2); b != (Boundary{K: 2, Value: 1, Inside: 2, Outside: 1}) || !b.Arbitrary() {
		t.Errorf("after TieWithin: %+v", b)
	}
	if _, err := BoundaryTies(s, 0); err == nil {
		t.Error("k=0: no error")
	}
	if _, err := BottomBoundaryTies(s, 8); err == nil {
		t.Error("k>n: no error")
	}
	if _, err := BoundaryTies([]float64{1, math.NaN()}, 1); !errors.Is(err, ErrNaN) {
		t.Errorf("NaN: %v", err)
	}
}
