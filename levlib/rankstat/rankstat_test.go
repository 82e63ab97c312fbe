package rankstat

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// slowKendall is the O(n²) definition: tau-b from pair counts.
func slowKendall(x, y []float64) (tauB, discordant float64) {
	var c, d, tx, ty, n0 float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			n0++
			sx, sy := sign(x[i]-x[j]), sign(y[i]-y[j])
			switch {
			case sx == 0 && sy == 0:
				tx++
				ty++
			case sx == 0:
				tx++
			case sy == 0:
				ty++
			case sx == sy:
				c++
			default:
				d++
			}
		}
	}
	return (c - d) / math.Sqrt((n0-tx)*(n0-ty)), d
}

// slowWeighted is the O(n²) definition of weighted tau for given element weights.
func slowWeighted(x, y, w []float64) float64 {
	var num, dx, dy float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			wij := w[i] + w[j]
			sx, sy := sign(x[i]-x[j]), sign(y[i]-y[j])
			num += wij * sx * sy
			dx += wij * sx * sx
			dy += wij * sy * sy
		}
	}
	return num / math.Sqrt(dx*dy)
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func TestKendallEdgeCases(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6, 7}
	rev := []float64{7, 6, 5, 4, 3, 2, 1}
	for _, tc := range []struct {
		name     string
		x, y     []float64
		tau, swp float64
	}{
		{"identity", x, x, 1, 0},
		{"reversed", x, rev, -1, 1},
		{"n=2 concordant", []float64{1, 2}, []float64{3, 4}, 1, 0},
		{"n=2 discordant", []float64{1, 2}, []float64{4, 3}, -1, 1},
		{"ties", []float64{1, 1, 2, 3}, []float64{1, 2, 2, 3}, 4 / math.Sqrt(5*5), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := KendallTauB(tc.x, tc.y)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(k.TauB-tc.tau) > 1e-15 || math.Abs(k.SwapDistance-tc.swp) > 1e-15 {
				t.Errorf("tau %v swap %v, want %v %v (%+v)", k.TauB, k.SwapDistance, tc.tau, tc.swp, k)
			}
		})
	}
	k, _ := KendallTauB([]float64{3}, []float64{1})
	if !math.IsNaN(k.TauB) || k.Pairs != 0 {
		t.Errorf("n=1: %+v, want NaN", k)
	}
	k, _ = KendallTauB([]float64{1, 1, 1}, []float64{1, 2, 3})
	if !math.IsNaN(k.TauB) {
		t.Errorf("constant x: %+v, want NaN", k)
	}
	if _, err := KendallTauB([]float64{1, math.NaN()}, []float64{1, 2}); !errors.Is(err, ErrNaN) || err.Error() != "NaN score: x[1]" {
		t.Errorf("NaN: %v", err)
	}
	if _, err := Spearman([]float64{1, 2}, []float64{math.NaN(), 2}); !errors.Is(err, ErrNaN) {
		t.Errorf("NaN: %v", err)
	}
	if _, err := WeightedTau([]float64{1, 2}, []float64{1}); !errors.Is(err, ErrLength) {
		t.Errorf("length: %v", err)
	}
}

// TestFastMatchesSlow compares Knight's algorithm and the merge-sort weighted tau with the O(n²)
// definitions on random data with many ties.
func TestFastMatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 30; trial++ {
		n := 2 + rng.IntN(300)
		levels := 1 + rng.IntN(20)
		x, y, w := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(levels + 1))
			y[i] = float64(rng.IntN(levels+1)) + 0.3*x[i]
			w[i] = rng.Float64()
		}
		k, err := KendallTauB(x, y)
		if err != nil {
			t.Fatal(err)
		}
		tau, d := slowKendall(x, y)
		if !(math.Abs(k.TauB-tau) < 1e-12 || math.IsNaN(tau) && math.IsNaN(k.TauB)) || k.Discordant != d {
			t.Errorf("n=%d: tau %v (slow %v), discordant %v (slow %v)", n, k.TauB, tau, k.Discordant, d)
		}
		c := weightedCounts(x, y, w)
		fast := ((c.tot - (c.tiesX + c.tiesY - c.tiesXY)) - 2*c.discordant) / math.Sqrt(c.tot-c.tiesX) / math.Sqrt(c.tot-c.tiesY)
		if slow := slowWeighted(x, y, w); !(math.Abs(fast-slow) < 1e-12 || math.IsNaN(slow) && math.IsNaN(fast)) {
			t.Errorf("n=%d: weighted %v, slow %v", n, fast, slow)
		}
	}
}

// TestAgainstScipy checks tau-b, Spearman and weighted tau against scipy 1.10.1
// (testdata/scipy_reference.json, made by scripts/reference/rankstat_reference.py) to 1e-12.
func TestAgainstScipy(t *testing.T) {
	b, err := os.ReadFile("testdata/scipy_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name                               string
			X, Y                               []float64
			KendallTauB, Spearman, WeightedTau float64 `json:"-"`
			KendallTauBJ                       float64 `json:"kendall_tau_b"`
			SpearmanJ                          float64 `json:"spearman"`
			WeightedTauJ                       float64 `json:"weighted_tau"`
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 8 {
		t.Fatalf("%d cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		k, _ := KendallTauB(c.X, c.Y)
		rho, _ := Spearman(c.X, c.Y)
		wt, _ := WeightedTau(c.X, c.Y)
		for _, v := range []struct {
			what      string
			got, want float64
		}{{"tau-b", k.TauB, c.KendallTauBJ}, {"spearman", rho, c.SpearmanJ}, {"weighted tau", wt, c.WeightedTauJ}} {
			if math.Abs(v.got-v.want) > 1e-12 {
				t.Errorf("%s: %s = %.15g, scipy %.15g", c.Name, v.what, v.got, v.want)
			}
		}
	}
}

func TestTopKOverlap(t *testing.T) {
	x := []float64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	y := []float64{9, 0, 8, 1, 7, 2, 6, 3, 5, 4} // top-4 of y: 0, 2, 4, 6
	ov, err := TopKOverlap(x, y, []int{1, 4, 10})
	if err != nil {
		t.Fatal(err)
	}
	// k=4: A = {0,1,2,3}, B = {0,2,4,6}: shared 2, Jaccard 2/6.
	want := []Overlap{
		{K: 1, Shared: 1, Fraction: 1, Jaccard: 1, ExpectedFraction: 0.1, ExpectedJaccard: 0.1, JaccardOfExpected: 0.1 / 1.9},
		{K: 4, Shared: 2, Fraction: 0.5, Jaccard: 2.0 / 6, ExpectedFraction: 0.4, ExpectedJaccard: bruteExpectedJaccard(10, 4), JaccardOfExpected: 1.6 / 6.4},
		{K: 10, Shared: 10, Fraction: 1, Jaccard: 1, ExpectedFraction: 1, ExpectedJaccard: 1, JaccardOfExpected: 1},
	}
	for i := range want {
		g, w := ov[i], want[i]
		if g.K != w.K || g.Shared != w.Shared || g.Fraction != w.Fraction || g.Jaccard != w.Jaccard ||
			math.Abs(g.ExpectedFraction-w.ExpectedFraction) > 1e-15 || math.Abs(g.ExpectedJaccard-w.ExpectedJaccard) > 1e-12 ||
			math.Abs(g.JaccardOfExpected-w.JaccardOfExpected) > 1e-15 {
			t.Errorf("k=%d: %+v, want %+v", want[i].K, ov[i], want[i])
		}
	}
	if _, err := TopKOverlap(x, y, []int{0}); err == nil {
		t.Error("k=0: no error")
	}
	if _, err := TopKOverlap(x, y, []int{11}); err == nil {
		t.Error("k>n: no error")
	}
}

// TestNull checks the closed-form null SD of Kendall's tau against seeded shuffles.
func TestNull(t *testing.T) {
	n := 400
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var s, s2 float64
	const trials = 400
	for i := 0; i < trials; i++ {
		y := append([]float64(nil), x...)
		rng.Shuffle(n, func(a, b int) { y[a], y[b] = y[b], y[a] })
		k, _ := KendallTauB(x, y)
		s += k.TauB
		s2 += k.TauB * k.TauB
	}
	mean := s / trials
	sd := math.Sqrt(s2/trials - mean*mean)
	want := KendallNullSD(n)
	if math.Abs(mean) > 4*want/math.Sqrt(trials) || math.Abs(sd-want)/want > 0.15 {
		t.Errorf("shuffles: mean %.4f, sd %.4f; closed form sd %.4f", mean, sd, want)
	}
	band, err := ShuffleNull(context.Background(), x, x, 50, 7)
	if err != nil || band.N != 50 || math.Abs(band.SD-want)/want > 0.4 || band.Lo > 0 || band.Hi < 0 {
		t.Errorf("ShuffleNull: %+v %v", band, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ShuffleNull(ctx, x, x, 50, 7); !errors.Is(err, context.Canceled) {
		t.Errorf("ShuffleNull with a cancelled context: %v, want context.Canceled", err)
	}
	for _, n := range []int{1, MaxShuffles + 1} {
		if _, err := ShuffleNull(context.Background(), x, x, n, 7); err == nil || !strings.Contains(err.Error(), "shuffles") {
			t.Errorf("ShuffleNull(n=%d): %v, want an error naming the shuffles", n, err)
		}
	}
}

func BenchmarkKendallTauB(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 70000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = rng.Float64()
		y[i] = x[i] + rng.NormFloat64()
	}
	b.ReportAllocs()
	for b.Loop() {
		KendallTauB(x, y)
	}
}

// bruteExpectedJaccard averages |A∩B|/|A∪B| over all pairs of k-subsets of n items, A fixed to {0..k−1}
// (by symmetry): the slow reference for ExpectedJaccard.
func bruteExpectedJaccard(n, k int) float64 {
	total, count := 0.0, 0
	var rec func(start, left int, chosen []int)
	rec = func(start, left int, chosen []int) {
		if left == 0 {
			shared := 0
			for _, i := range chosen {
				if i < k {
					shared++
				}
			}
			total += float64(shared) / float64(2*k-shared)
			count++
			return
		}
		for i := start; i <= n-left; i++ {
			rec(i+1, left-1, append(chosen, i))
		}
	}
	rec(0, k, nil)
	return total / float64(count)
}

// TestExpectedJaccard checks the hypergeometric expectation against enumeration of all subsets.
func TestExpectedJaccard(t *testing.T) {
	for _, c := range [][2]int{{6, 1}, {6, 2}, {7, 3}, {9, 4}, {8, 8}} {
		got, want := ExpectedJaccard(c[0], c[1]), bruteExpectedJaccard(c[0], c[1])
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("n=%d k=%d: %v, enumeration %v", c[0], c[1], got, want)
		}
	}
}

func BenchmarkWeightedTau(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 70000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = rng.Float64()
		y[i] = x[i] + rng.NormFloat64()
	}
	b.ReportAllocs()
	for b.Loop() {
		WeightedTau(x, y)
	}
}
