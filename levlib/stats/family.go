package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/combin"
)

// WithinBetweenOptions sets how WithinBetween draws its null distributions. The zero value is
// DefaultWithinBetweenOptions().
type WithinBetweenOptions struct {
	// MaxExact: a family's null is enumerated exactly when it has at most this many relabellings
	// (C(n, n_f), see WithinBetween); the exact p-value is then a multiple of 1/C(n, n_f). 0 means
	// 20,000; a negative value forces Monte Carlo.
	MaxExact int
	// Resamples R, the number of seeded random relabellings when a family's null is not enumerated.
	// 0 means 9,999, so that p = (1 + count)/(1 + R) is a multiple of 1e-4.
	Resamples int
	// Seed of the Monte Carlo relabellings: one stream rand.NewPCG(Seed, Seed), drawn family by
	// family in the order of WithinBetweenResult.Families.
	Seed uint64
}

// DefaultWithinBetweenOptions returns MaxExact 20,000, Resamples 9,999, Seed 0.
func DefaultWithinBetweenOptions() WithinBetweenOptions {
	return WithinBetweenOptions{MaxExact: 20000, Resamples: 9999}
}

// Null-distribution methods of a FamilyContrast.
const (
	NullExact      = "exact"
	NullMonteCarlo = "monte carlo"
)

// FamilyContrast is the within- versus between-family comparison of one family f with n_f ≥ 2 members
// among n items. Every field is finite, so it marshals to JSON.
type FamilyContrast struct {
	Family       string  `json:"family"`
	Size         int     `json:"size"`          // n_f
	WithinPairs  int     `json:"within_pairs"`  // n_f(n_f − 1)/2 pairs with both members in f
	BetweenPairs int     `json:"between_pairs"` // n_f(n − n_f) pairs with exactly one member in f
	WithinMean   float64 `json:"within_mean"`   // mean statistic over the within pairs
	BetweenMean  float64 `json:"between_mean"`  // mean statistic over the between pairs
	Observed     float64 `json:"observed"`      // WithinMean − BetweenMean
	// Null: NullExact or NullMonteCarlo; Relabellings: C(n, n_f) for NullExact (the observed labelling
	// among them), R for NullMonteCarlo.
	Null         string `json:"null"`
	Relabellings int    `json:"relabellings"`
	// AtLeast counts the null relabellings whose statistic is ≥ Observed (the observed labelling itself
	// included for NullExact, not for NullMonteCarlo).
	AtLeast int `json:"at_least"`
	// P is the one-sided p-value for "within > between": AtLeast/C(n, n_f) exactly, or
	// (1 + AtLeast)/(1 + R) by Monte Carlo. MinP is the smallest P this null could give
	// (1/C(n, n_f) or 1/(1 + R)): a small family among few items cannot reach a small P.
	P    float64 `json:"p"`
	MinP float64 `json:"min_p"`
	// NullMean and NullSD describe the null distribution of Observed (SD with n in the denominator).
	NullMean float64 `json:"null_mean"`
	NullSD   float64 `json:"null_sd"`
}

// WithinBetweenResult holds one FamilyContrast per family with at least two members, in order of the
// family names.
type WithinBetweenResult struct {
	Items    int              `json:"items"` // n
	Seed     uint64           `json:"seed"`
	Families []FamilyContrast `json:"families"`
	// Singletons are the families with one member: they take part in the between pairs of the others
	// but have no within pairs to test.
	Singletons []string `json:"singletons,omitempty"`
}

// ErrAsymmetric is wrapped by WithinBetween's error for a statistic matrix that is not symmetric.
var ErrAsymmetric = errors.New("pairwise statistic is not symmetric")

// WithinBetween asks, for each family, whether a pairwise statistic s(i, j) — e.g. Kendall's tau-b
// between the leverage rankings of bases i and j — is larger for pairs within the family than for
// pairs between the family and the other items. For family f (set F, |F| = n_f ≥ 2, among n items):
//
//	W(F) = mean{ s(i, j) : i < j, i, j ∈ F },        n_f(n_f − 1)/2 pairs,
//	B(F) = mean{ s(i, j) : i ∈ F, j ∉ F },           n_f(n − n_f) pairs,
//	T(F) = W(F) − B(F),   one-sided: large T means the family agrees more within than with the others.
//
// The pairs are not independent (each item enters n − 1 of them), so a t test over pairs would be
// wrong; instead the labels are permuted, as in Mantel's test (N. Mantel, "The detection of disease
// clustering and a generalized regression approach", Cancer Research 27, 1967): under the null that
// the family labels are exchangeable, every relabelling of the items that keeps the family sizes is
// as likely as the observed one. T(F) depends only on which n_f items carry the label f, and a
// uniformly random relabelling makes that set a uniformly random n_f-subset, so family f's null is
// the distribution of T over the C(n, n_f) subsets: enumerated exactly when C(n, n_f) ≤
// opts.MaxExact, p = #{S : T(S) ≥ T(F)} / C(n, n_f); otherwise R = opts.Resamples seeded random
// subsets, p = (1 + #{T(S) ≥ T(F)}) / (1 + R) (Davison & Hinkley, "Bootstrap methods and their
// application", 1997, §4.3; the + 1 counts the observed labelling, so p is never 0). "≥" allows a
// margin of 100·eps·max(|W|, |B|) for rounding, as scipy.stats.permutation_test does (relative to
// the observed statistic there). Each family gets its own
// p-value; with several families, correct for multiplicity if you need a joint statement. The null
// has mean 0 (every pair is as likely to fall within as between), and it contains the other families:
// when m families of size n_f are all tight, each of them reaches about T(F) and P ≥ m/C(n, n_f) —
// the test asks whether F stands out among all sets of n_f items.
//
// stat is the n×n matrix of s; the diagonal is not read, the upper triangle is used, and the lower
// must equal it to 1e-12 relative (else an error wrapping ErrAsymmetric) and finite (else an error wrapping ErrNonFinite, naming
// the pair). families[i] is item i's family; labels[i] names it in errors (nil: "item i"). At
// least two families are needed, and at least one with two members.
//
// T is computed as W = Σ_{i<j∈S} s_ij and Σ_{i∈S} r_i − 2W for the between sum, with r_i = Σ_{j≠i} s_ij
// precomputed: O(n_f²) per relabelling.
func WithinBetween(labels, families []string, stat [][]float64, opts WithinBetweenOptions) (WithinBetweenResult, error) {
	n := len(families)
	name := func(i int) string {
		if labels == nil {
			return fmt.Sprintf("item %d", i)
		}
		return labels[i]
	}
	if labels != nil && len(labels) != n {
		return WithinBetweenResult{}, fmt.Errorf("%d labels for %d families", len(labels), n)
	}
	if len(stat) != n {
		return WithinBetweenResult{}, fmt.Errorf("statistic has %d rows, want %d (one per item)", len(stat), n)
	}
	for i := range stat {
		if len(stat[i]) != n {
			return WithinBetweenResult{}, fmt.Errorf("statistic row %d (%s) has %d columns, want %d", i, name(i), len(stat[i]), n)
		}
	}
	sym, err := symmetric(stat, name)
	if err != nil {
		return WithinBetweenResult{}, err
	}
	row := make([]float64, n)
	for i := range n {
		for j := range n {
			if j != i {
				row[i] += sym[i][j]
			}
		}
	}
	members := map[string][]int{}
	for i, f := range families {
		members[f] = append(members[f], i)
	}
	if len(members) < 2 {
		return WithinBetweenResult{}, fmt.Errorf("%d items in %d families: no between-family pairs", n, len(members))
	}
	names := make([]string, 0, len(members))
	for f := range members {
		names = append(names, f)
	}
	slices.Sort(names)

	if opts.MaxExact == 0 {
		opts.MaxExact = DefaultWithinBetweenOptions().MaxExact
	}
	if opts.Resamples == 0 {
		opts.Resamples = DefaultWithinBetweenOptions().Resamples
	}
	if opts.Resamples < 0 {
		return WithinBetweenResult{}, fmt.Errorf("%d resamples, want > 0 (or 0 for the default)", opts.Resamples)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed))
	res := WithinBetweenResult{Items: n, Seed: opts.Seed}
	t := contrast{s: sym, row: row}
	for _, f := range names {
		set := members[f]
		k := len(set)
		if k < 2 {
			res.Singletons = append(res.Singletons, f)
			continue
		}
		c := FamilyContrast{Family: f, Size: k, WithinPairs: k * (k - 1) / 2, BetweenPairs: k * (n - k)}
		c.WithinMean, c.BetweenMean = t.means(set, n)
		c.Observed = c.WithinMean - c.BetweenMean
		// Rounding in T is relative to the means it subtracts, not to T.
		gamma := 100 * 0x1p-52 * math.Max(math.Abs(c.WithinMean), math.Abs(c.BetweenMean))
		var sum, sum2 float64
		count := func(s []int) {
			w, b := t.means(s, n)
			v := w - b
			sum += v
			sum2 += v * v
			if v >= c.Observed-gamma {
				c.AtLeast++
			}
		}
		if total := combin.GeneralizedBinomial(float64(n), float64(k)); opts.MaxExact > 0 && total <= float64(opts.MaxExact) {
			c.Null = NullExact
			gen := combin.NewCombinationGenerator(n, k)
			s := make([]int, k)
			for gen.Next() {
				count(gen.Combination(s))
				c.Relabellings++
			}
			c.P = float64(c.AtLeast) / float64(c.Relabellings)
			c.MinP = 1 / float64(c.Relabellings)
		} else {
			c.Null = NullMonteCarlo
			perm, s := make([]int, n), make([]int, k)
			for i := range perm {
				perm[i] = i
			}
			for range opts.Resamples {
				// Partial Fisher–Yates: perm[:k] becomes a uniformly random k-subset.
				for i := 0; i < k; i++ {
					j := i + rng.IntN(n-i)
					perm[i], perm[j] = perm[j], perm[i]
				}
				copy(s, perm[:k])
				slices.Sort(s) // the observed set, drawn again, sums in the same order
				count(s)
			}
			c.Relabellings = opts.Resamples
			c.P = float64(1+c.AtLeast) / float64(1+opts.Resamples)
			c.MinP = 1 / float64(1+opts.Resamples)
		}
		if c.Relabellings > 0 {
			m := float64(c.Relabellings)
			c.NullMean = sum / m
			c.NullSD = math.Sqrt(math.Max(0, sum2/m-c.NullMean*c.NullMean))
		}
		res.Families = append(res.Families, c)
	}
	if len(res.Families) == 0 {
		return WithinBetweenResult{}, fmt.Errorf("no family has two members: %d families of one item", len(names))
	}
	return res, nil
}

// symmetric checks that the n×n matrix stat is finite off the diagonal and symmetric to 1e-12
// relative, and returns its upper triangle mirrored (zero diagonal), so that every sum reads the same
// numbers whatever the order of the indices.
func symmetric(stat [][]float64, name func(int) string) ([][]float64, error) {
	n := len(stat)
	sym := make([][]float64, n)
	for i := range sym {
		sym[i] = make([]float64, n)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			s, t := stat[i][j], stat[j][i]
			for _, p := range [][2]int{{i, j}, {j, i}} {
				if x := stat[p[0]][p[1]]; math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("%w: statistic(%s, %s) = %v", ErrNonFinite, name(p[0]), name(p[1]), x)
				}
			}
			if math.Abs(s-t) > 1e-12*math.Max(1, math.Abs(s)) {
				return nil, fmt.Errorf("%w: statistic(%s, %s) = %v but statistic(%s, %s) = %v",
					ErrAsymmetric, name(i), name(j), s, name(j), name(i), t)
			}
			sym[i][j], sym[j][i] = s, s
		}
	}
	return sym, nil
}

// contrast computes W(S) and B(S) from the statistic matrix s and its row sums row[i] = Σ_{j≠i} s_ij.
type contrast struct {
	s   [][]float64
	row []float64
}

// means returns the mean of s over the pairs within set and over the pairs with exactly one member in
// set, among n items: the within sum W directly, the between sum as Σ_{i∈set} row[i] − 2W.
func (c contrast) means(set []int, n int) (within, between float64) {
	var w, r float64
	for a, i := range set {
		r += c.row[i]
		for _, j := range set[a+1:] {
			w += c.s[i][j]
		}
	}
	k := len(set)
	return w / float64(k*(k-1)/2), (r - 2*w) / float64(k*(n-k))
}
