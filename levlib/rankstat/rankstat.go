// Package rankstat compares rankings: Kendall's tau-b in O(n log n), the normalized swap distance,
// Spearman's rho, Vigna's weighted tau, their null distributions under random permutation, and the
// overlap of top-k sets. It stands alone (no dependency on the rest of levstudy).
//
// Every function takes two score vectors of equal length (a higher score ranks first), rejects NaN
// with an error naming the vector and position, and handles ties as scipy.stats does (the tests check
// against scipy 1.10's kendalltau, spearmanr and weightedtau).
//
// Scores that are equal up to rounding — leverage scores of 1 computed as 1 − 2⁻⁵³ and 1 + 2⁻⁵² — are
// distinct to these functions, and their arbitrary order can move weighted tau by several hundredths.
// TieWithin makes values within a tolerance (DefaultTieTolerance for leverage) exact ties first;
// TopK and BottomK select with ties to the smaller index, and BoundaryTies says how many tied rows
// that choice left out.
package rankstat

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// ErrNaN is wrapped by the error for a NaN score.
var ErrNaN = errors.New("NaN score")

// ErrLength is wrapped by the error for vectors of different lengths.
var ErrLength = errors.New("score vectors differ in length")

func check(x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("%w: %d and %d", ErrLength, len(x), len(y))
	}
	for i := range x {
		if math.IsNaN(x[i]) {
			return fmt.Errorf("%w: x[%d]", ErrNaN, i)
		}
		if math.IsNaN(y[i]) {
			return fmt.Errorf("%w: y[%d]", ErrNaN, i)
		}
	}
	return nil
}

// Kendall holds Kendall's rank correlation of two vectors and its ingredients. Pair counts are exact
// (float64 holds integers up to 2^53; n(n−1)/2 < 2^53 for n < 1.3e8).
type Kendall struct {
	N int
	// Pairs = n(n−1)/2; TiesX, TiesY: pairs tied in x, in y; TiesXY: pairs tied in both.
	Pairs, TiesX, TiesY, TiesXY float64
	// Concordant and Discordant pairs (pairs tied in x or y are neither).
	Concordant, Discordant float64
	// TauB = (C − D) / sqrt((Pairs − TiesX)(Pairs − TiesY)), NaN when x or y is constant.
	TauB float64
	// SwapDistance = D / Pairs, the normalized Kendall tau distance: the fraction of pairs that a
	// bubble sort of one ranking into the other must swap. Without ties, TauB = 1 − 2·SwapDistance.
	SwapDistance float64
}

// KendallTauB computes Kendall's tau-b with Knight's O(n log n) algorithm (W. R. Knight, "A computer
// method for calculating Kendall's tau with ungrouped data", JASA 61, 1966): sort by (x, y), count
// ties, then count the discordant pairs as the exchanges of a merge sort by y.
func KendallTauB(x, y []float64) (Kendall, error) {
	if err := check(x, y); err != nil {
		return Kendall{}, err
	}
	r := weightedCounts(x, y, nil)
	k := Kendall{N: len(x), Pairs: r.tot, TiesX: r.tiesX, TiesY: r.tiesY, TiesXY: r.tiesXY, Discordant: r.discordant}
	k.Concordant = r.tot - r.tiesX - r.tiesY + r.tiesXY - r.discordant
	k.TauB = (k.Concordant - k.Discordant) / math.Sqrt(r.tot-r.tiesX) / math.Sqrt(r.tot-r.tiesY)
	if r.tot > 0 {
		k.SwapDistance = k.Discordant / r.tot
	} else {
		k.SwapDistance = math.NaN()
	}
	return k, nil
}

// counts are pair totals, each pair (i, j) weighted w_i + w_j (or 1 when the weights are nil).
type counts struct {
	tot, tiesX, tiesY, tiesXY, discordant float64
}

// weightedCounts sorts by (x, y) ascending, sums the weights of tied pairs, and counts (weighted)
// discordant pairs as inversions of a stable merge sort by y.
func weightedCounts(x, y, w []float64) counts {
	n := len(x)
	wt := func(i int) float64 {
		if w == nil {
			return 0.5 // pair weight w_i + w_j = 1
		}
		return w[i]
	}
	perm := argsort2(x, y)
	var c counts
	sumW := 0.0
	for i := 0; i < n; i++ {
		sumW += wt(i)
	}
	c.tot = float64(n-1) * sumW
	// Groups of equal x (and within them of equal (x, y)) are contiguous in perm.
	groupTies := func(same func(a, b int) bool) float64 {
		t := 0.0
		for s := 0; s < n; {
			e, gw := s+1, wt(perm[s])
			for e < n && same(perm[s], perm[e]) {
				gw += wt(perm[e])
				e++
			}
			t += float64(e-s-1) * gw
			s = e
		}
		return t
	}
	c.tiesX = groupTies(func(a, b int) bool { return x[a] == x[b] })
	c.tiesXY = groupTies(func(a, b int) bool { return x[a] == x[b] && y[a] == y[b] })
	items := make([]wy, n)
	for k, i := range perm {
		items[k] = wy{y[i], wt(i)}
	}
	c.discordant = mergeInversions(items)
	// items are now sorted by y: sum the weights of the groups of equal y.
	for s := 0; s < n; {
		e, gw := s+1, items[s].w
		for e < n && items[e].y == items[s].y {
			gw += items[e].w
			e++
		}
		c.tiesY += float64(e-s-1) * gw
		s = e
	}
	return c
}

// wy is a value and its weight, merged together.
type wy struct{ y, w float64 }

// mergeInversions sorts items by y (stable, bottom-up merge sort) and returns the weighted number of
// inversions: pairs i before j with y_i > y_j, each weighing w_i + w_j. The values travel with their
// weights, so every pass reads memory in order.
func mergeInversions(items []wy) float64 {
	n := len(items)
	buf := make([]wy, n)
	inv := 0.0
	for width := 1; width < n; width *= 2 {
		for lo := 0; lo < n-width; lo += 2 * width {
			mid, hi := lo+width, min(lo+2*width, n)
			// Weight still waiting in the left run, for weighted counting.
			leftW := 0.0
			for k := lo; k < mid; k++ {
				leftW += items[k].w
			}
			i, j, o := lo, mid, lo
			for i < mid && j < hi {
				if items[i].y <= items[j].y {
					leftW -= items[i].w
					buf[o] = items[i]
					i++
				} else {
					// items[j] jumps over the mid−i elements left in the left run.
					inv += float64(mid-i)*items[j].w + leftW
					buf[o] = items[j]
					j++
				}
				o++
			}
			o += copy(buf[o:], items[i:mid])
			copy(buf[o:], items[j:hi])
			copy(items[lo:hi], buf[lo:hi])
		}
	}
	return inv
}

// Ranks returns the ranks of x, 1-based, averaged over ties (scipy.stats.rankdata's "average").
func Ranks(x []float64) []float64 {
	n := len(x)
	idx := argsort(x, false)
	r := make([]float64, n)
	for s := 0; s < n; {
		e := s + 1
		for e < n && x[idx[e]] == x[idx[s]] {
			e++
		}
		avg := float64(s+e+1) / 2 // mean of ranks s+1 … e
		for k := s; k < e; k++ {
			r[idx[k]] = avg
		}
		s = e
	}
	return r
}

// Spearman returns Spearman's rho: the Pearson correlation of the average ranks (NaN when a vector
// is constant).
func Spearman(x, y []float64) (float64, error) {
	if err := check(x, y); err != nil {
		return 0, err
	}
	rx, ry := Ranks(x), Ranks(y)
	n := float64(len(x))
	mean := (n + 1) / 2
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mean, ry[i]-mean
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy), nil
}

// WeightedTau returns Vigna's weighted Kendall tau with the hyperbolic weigher and additive weights,
// as scipy.stats.weightedtau(x, y) with its defaults (S. Vigna, "A weighted correlation index for
// rankings with ties", WWW 2015): a pair (i, j) weighs 1/(r_i+1) + 1/(r_j+1), where r is the 0-based
// rank of an element when sorted by decreasing (x, y) lexicographically, so that agreement at the top
// of the ranking counts most; the result is the mean of that and the same with (y, x).
func WeightedTau(x, y []float64) (float64, error) {
	if err := check(x, y); err != nil {
		return 0, err
	}
	return (weightedTauRanked(x, y, x, y) + weightedTauRanked(x, y, y, x)) / 2, nil
}

// weightedTauRanked is weighted tau with weights from the decreasing lexicographic order of (p, q).
func weightedTauRanked(x, y, p, q []float64) float64 {
	n := len(x)
	// numpy's lexsort((q, p)) is a stable ascending sort by p then q; scipy reverses it.
	perm := argsort2(p, q)
	w := make([]float64, n)
	for k, i := range perm {
		rank := n - 1 - k
		w[i] = 1 / float64(rank+1)
	}
	c := weightedCounts(x, y, w)
	return ((c.tot - (c.tiesX + c.tiesY - c.tiesXY)) - 2*c.discordant) / math.Sqrt(c.tot-c.tiesX) / math.Sqrt(c.tot-c.tiesY)
}

// KendallNullSD is the standard deviation of Kendall's tau between a ranking of n distinct items
// and a uniformly random permutation: Var(τ) = 2(2n+5) / (9n(n−1)) (Kendall 1938).
func KendallNullSD(n int) float64 {
	if n < 2 {
		return math.NaN()
	}
	f := float64(n)
	return math.Sqrt(2 * (2*f + 5) / (9 * f * (f - 1)))
}

// Overlap compares the top-k sets A and B of two score vectors (TopK order: highest first, ties to the
// smaller index).
type Overlap struct {
	K int `json:"k"`
	// Shared = |A∩B|; Fraction = |A∩B|/k; Jaccard = |A∩B|/|A∪B|.
	Shared   int     `json:"shared"`
	Fraction float64 `json:"fraction"`
	Jaccard  float64 `json:"jaccard"`
	// Expected values for two independent uniformly random k-subsets of n items: E[|A∩B|/k] = k/n;
	// ExpectedJaccard = E[|A∩B|/|A∪B|] = Σ_s P(s)·s/(2k−s) over the hypergeometric law of s = |A∩B|;
	// JaccardOfExpected = (k²/n)/(2k − k²/n), the Jaccard of the expected overlap (smaller).
	ExpectedFraction  float64 `json:"expected_fraction"`
	ExpectedJaccard   float64 `json:"expected_jaccard"`
	JaccardOfExpected float64 `json:"jaccard_of_expected"`
}

// ExpectedJaccard returns E[|A∩B|/|A∪B|] for two independent uniformly random k-subsets A, B of n
// items: |A∩B| is hypergeometric, P(s) = C(k,s)·C(n−k,k−s)/C(n,k) (computed in logs).
func ExpectedJaccard(n, k int) float64 {
	if k <= 0 || k > n {
		return math.NaN()
	}
	if v, ok := expectedJaccardMemo.Load([2]int{n, k}); ok {
		return v.(float64)
	}
	e := expectedJaccard(n, k)
	expectedJaccardMemo.Store([2]int{n, k}, e)
	return e
}

// expectedJaccardMemo keeps ExpectedJaccard's values: a study asks for the same (n, k) for every pair
// of bases, and each value sums k terms of log-binomials.
var expectedJaccardMemo sync.Map

func expectedJaccard(n, k int) float64 {
	lchoose := func(a, b int) float64 {
		x, _ := math.Lgamma(float64(a + 1))
		y, _ := math.Lgamma(float64(b + 1))
		z, _ := math.Lgamma(float64(a - b + 1))
		return x - y - z
	}
	total := lchoose(n, k)
	e := 0.0
	for s := max(0, 2*k-n); s <= k; s++ {
		if s == 0 {
			continue
		}
		p := math.Exp(lchoose(k, s) + lchoose(n-k, k-s) - total)
		e += p * float64(s) / float64(2*k-s)
	}
	return e
}

// TopKOverlap returns the overlap of the top-k sets of x and y for each k (clipped to [1, n]).
func TopKOverlap(x, y []float64, ks []int) ([]Overlap, error) {
	if err := check(x, y); err != nil {
		return nil, err
	}
	n := len(x)
	if n == 0 {
		return nil, errors.New("empty score vectors")
	}
	ox, oy := order(x), order(y)
	out := make([]Overlap, 0, len(ks))
	for _, k := range ks {
		if k < 1 || k > n {
			return nil, fmt.Errorf("k = %d outside 1..%d", k, n)
		}
		in := make(map[int]bool, k)
		for _, i := range ox[:k] {
			in[i] = true
		}
		shared := 0
		for _, i := range oy[:k] {
			if in[i] {
				shared++
			}
		}
		e := float64(k) * float64(k) / float64(n)
		out = append(out, Overlap{K: k, Shared: shared, Fraction: float64(shared) / float64(k),
			Jaccard: float64(shared) / float64(2*k-shared), ExpectedFraction: float64(k) / float64(n),
			ExpectedJaccard: ExpectedJaccard(n, k), JaccardOfExpected: e / (2*float64(k) - e)})
	}
	return out, nil
}

// order returns indices by decreasing score, ties to the smaller index.
func order(x []float64) []int {
	return argsort(x, true)
}

// NullBand summarizes Kendall's tau-b between x and seeded random shuffles of y: the empirical null.
// With fewer than 80 shuffles the 2.5% and 97.5% quantiles are the extreme values: Describe calls it a
// range then.
type NullBand struct {
	N            int     `json:"shuffles"`
	Mean         float64 `json:"mean"` // of tau-b
	SD           float64 `json:"sd"`
	Lo           float64 `json:"q025"` // 2.5% and 97.5% quantiles
	Hi           float64 `json:"q975"`
	ClosedFormSD float64 `json:"closed_form_sd"` // KendallNullSD(len(x))
}

// Describe says what the band is, e.g. "2.5–97.5% quantiles of 200 shuffles [-0.0049, 0.0050]".
func (b NullBand) Describe() string {
	if b.N < 80 {
		return fmt.Sprintf("range of %d shuffles [%.4f, %.4f]", b.N, b.Lo, b.Hi)
	}
	return fmt.Sprintf("2.5–97.5%% quantiles of %d shuffles [%.4f, %.4f]", b.N, b.Lo, b.Hi)
}

// MaxShuffles bounds ShuffleNull's n: each shuffle costs a tau-b, O(N log N), and one float64.
const MaxShuffles = 100_000

// ShuffleNull computes tau-b(x, shuffle(y)) for n shuffles drawn from rand.NewPCG(seed, seed). It
// checks ctx between shuffles and returns ctx's error when cancelled.
func ShuffleNull(ctx context.Context, x, y []float64, n int, seed uint64) (NullBand, error) {
	if err := check(x, y); err != nil {
		return NullBand{}, err
	}
	if n < 2 || n > MaxShuffles {
		return NullBand{}, fmt.Errorf("%d shuffles, want 2 to %d", n, MaxShuffles)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	taus := make([]float64, n)
	ys := append([]float64(nil), y...)
	var s, s2 float64
	for i := range taus {
		if err := ctx.Err(); err != nil {
			return NullBand{}, err
		}
		rng.Shuffle(len(ys), func(a, b int) { ys[a], ys[b] = ys[b], ys[a] })
		k, _ := KendallTauB(x, ys)
		taus[i] = k.TauB
		s += k.TauB
		s2 += k.TauB * k.TauB
	}
	slices.Sort(taus)
	mean := s / float64(n)
	q := func(p float64) float64 { return taus[min(n-1, int(p*float64(n)))] }
	return NullBand{N: n, Mean: mean, SD: math.Sqrt(math.Max(0, s2/float64(n)-mean*mean)), Lo: q(0.025), Hi: q(0.975),
		ClosedFormSD: KendallNullSD(len(x))}, nil
}
