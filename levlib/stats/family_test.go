package stats

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// blockStat returns a symmetric matrix with s_ij = within when i and j share a family, between
// otherwise, plus seeded uniform noise in [−noise, noise].
func blockStat(families []string, within, between, noise float64, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	n := len(families)
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, n)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := between
			if families[i] == families[j] {
				v = within
			}
			v += noise * (2*rng.Float64() - 1)
			s[i][j], s[j][i] = v, v
		}
	}
	return s
}

// slowMeans is the definition: loop over every pair, classify it.
func slowMeans(s [][]float64, in []bool) (within, between float64, nw, nb int) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			switch {
			case in[i] && in[j]:
				within += s[i][j]
				nw++
			case in[i] != in[j]:
				between += s[i][j]
				nb++
			}
		}
	}
	return within / float64(nw), between / float64(nb), nw, nb
}

func fams(sizes map[string]int) []string {
	var f []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range sizes {
			if !yield(k) {
				return
			}
		}
	}) {
		for range sizes[name] {
			f = append(f, name)
		}
	}
	return f
}

// TestWithinBetweenClear: three families of four whose members agree within (0.8 ± 0.05) far more than
// between (0.2 ± 0.05). Of the C(12, 4) = 495 subsets only the three families themselves reach T ≈ 0.6
// (every other subset mixes families), so P ≤ 3/495 for each; the exact null has mean 0 (E[W] = E[B] =
// the mean over all pairs); the means and pair counts equal the pair-by-pair definition.
func TestWithinBetweenClear(t *testing.T) {
	f := fams(map[string]int{"A": 4, "B": 4, "C": 4})
	s := blockStat(f, 0.8, 0.2, 0.05, 3)
	res, err := WithinBetween(nil, f, s, WithinBetweenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 12 || len(res.Families) != 3 || len(res.Singletons) != 0 {
		t.Fatalf("%+v", res)
	}
	for _, c := range res.Families {
		in := make([]bool, len(f))
		for i := range f {
			in[i] = f[i] == c.Family
		}
		w, b, nw, nb := slowMeans(s, in)
		if c.Size != 4 || c.WithinPairs != 6 || c.BetweenPairs != 32 || nw != 6 || nb != 32 {
			t.Errorf("%s: sizes %+v", c.Family, c)
		}
		if math.Abs(c.WithinMean-w) > 1e-14 || math.Abs(c.BetweenMean-b) > 1e-14 || c.Observed != c.WithinMean-c.BetweenMean {
			t.Errorf("%s: within %v between %v, slow %v %v", c.Family, c.WithinMean, c.BetweenMean, w, b)
		}
		if c.Null != NullExact || c.Relabellings != 495 || c.AtLeast > 3 || c.P != float64(c.AtLeast)/495 || c.MinP != 1.0/495 {
			t.Errorf("%s: %+v, want exact P ≤ 3/495", c.Family, c)
		}
		if math.Abs(c.NullMean) > 1e-12 {
			t.Errorf("%s: exact null mean %v, want 0", c.Family, c.NullMean)
		}
		if c.Observed < c.NullMean+3*c.NullSD {
			t.Errorf("%s: observed %v inside the null (mean %v sd %v)", c.Family, c.Observed, c.NullMean, c.NullSD)
		}
	}
}

// TestWithinBetweenNoEffect: family A's members agree less with each other (0.1) than with the rest
// (0.5), so P is large (≥ 0.9); and under a true null — i.i.d. statistics, labels irrelevant — the
// p-values of 300 seeded trials are valid: P(p ≤ 0.05) ≤ 0.05 + 3 binomial SE, mean p near 1/2.
func TestWithinBetweenNoEffect(t *testing.T) {
	f := fams(map[string]int{"A": 4, "B": 4, "C": 4})
	s := blockStat(f, 0.5, 0.5, 0.05, 4)
	for i := range 4 {
		for j := range 4 {
			if i != j {
				s[i][j] = 0.1
			}
		}
	}
	res, err := WithinBetween(nil, f, s, WithinBetweenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Families[0]; a.Family != "A" || a.P < 0.9 || a.Observed > 0 {
		t.Errorf("A: %+v, want P ≥ 0.9", a)
	}
	const trials = 300
	small, sum := 0, 0.0
	for trial := range uint64(trials) {
		s := blockStat(f, 0, 0, 1, 100+trial)
		res, err := WithinBetween(nil, f, s, WithinBetweenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := res.Families[trial%3].P
		sum += p
		if p <= 0.05 {
			small++
		}
	}
	if bound := 0.05 + 3*math.Sqrt(0.05*0.95/trials); float64(small)/trials > bound {
		t.Errorf("null: %d of %d p-values ≤ 0.05, want ≤ %.3f", small, trials, bound)
	}
	if m := sum / trials; m < 0.44 || m > 0.58 {
		t.Errorf("null: mean p %.3f, want ≈ 0.5", m)
	}
}

// TestWithinBetweenFullRelabelling checks the claim that family f's null over all relabellings that
// keep the family sizes equals its null over the C(n, n_f) subsets: for 7 items in families of 3, 2, 2
// it enumerates all 7!/(3!·2!·2!) = 210 distinct relabellings (multiset permutations), computes T by
// the pair-by-pair definition, and compares each family's fraction of T ≥ T_obs with P.
func TestWithinBetweenFullRelabelling(t *testing.T) {
	f := []string{"x", "x", "x", "y", "y", "z", "z"}
	s := blockStat(f, 0.3, 0.2, 0.3, 6) // a weak effect: p-values in the middle
	res, err := WithinBetween(nil, f, s, WithinBetweenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obs := map[string]float64{}
	for _, c := range res.Families {
		obs[c.Family] = c.Observed
	}
	count := map[string]int{}
	total := 0
	perm := slices.Clone(f) // sorted: the first multiset permutation
	for {
		total++
		for fam, o := range obs {
			in := make([]bool, len(f))
			for i := range perm {
				in[i] = perm[i] == fam
			}
			w, b, _, _ := slowMeans(s, in)
			if w-b >= o-1e-12 {
				count[fam]++
			}
		}
		if !nextPermutation(perm) {
			break
		}
	}
	if total != 210 {
		t.Fatalf("%d relabellings, want 210", total)
	}
	for _, c := range res.Families {
		want := float64(count[c.Family]) / float64(total)
		if math.Abs(c.P-want) > 1e-15 || c.Null != NullExact {
			t.Errorf("%s: P = %v (%s, %d/%d), full relabelling %v", c.Family, c.P, c.Null, c.AtLeast, c.Relabellings, want)
		} else {
			t.Logf("%s: P = %.4f (%d of %d subsets)", c.Family, c.P, c.AtLeast, c.Relabellings)
		}
	}
}

// nextPermutation rearranges p into the next lexicographic permutation (distinct arrangements of a
// multiset once each) and reports false after the last.
func nextPermutation(p []string) bool {
	i := len(p) - 2
	for i >= 0 && p[i] >= p[i+1] {
		i--
	}
	if i < 0 {
		return false
	}
	j := len(p) - 1
	for p[j] <= p[i] {
		j--
	}
	p[i], p[j] = p[j], p[i]
	slices.Reverse(p[i+1:])
	return true
}

// TestWithinBetweenExactVsMonteCarlo: the same input with the null enumerated (C(14, 5) = 2002) and
// drawn (R = 20,000, seeded): P agrees within 4 binomial SE, the null's mean and SD within 3%.
func TestWithinBetweenExactVsMonteCarlo(t *testing.T) {
	f := fams(map[string]int{"A": 5, "B": 5, "C": 4})
	s := blockStat(f, 0.25, 0.2, 0.2, 7)
	exact, err := WithinBetween(nil, f, s, WithinBetweenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := WithinBetween(nil, f, s, WithinBetweenOptions{MaxExact: -1, Resamples: 20000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range exact.Families {
		m := mc.Families[i]
		if e.Null != NullExact || m.Null != NullMonteCarlo || m.Relabellings != 20000 || m.MinP != 1.0/20001 {
			t.Fatalf("%+v / %+v", e, m)
		}
		if se := math.Sqrt(e.P * (1 - e.P) / 20000); math.Abs(m.P-e.P) > 4*se+1.0/20001 {
			t.Errorf("%s: Monte Carlo P %.4f, exact %.4f (SE %.4f)", e.Family, m.P, e.P, se)
		}
		if math.Abs(m.NullMean-e.NullMean) > 0.03*e.NullSD || math.Abs(m.NullSD-e.NullSD) > 0.03*e.NullSD {
			t.Errorf("%s: null mean/sd %v %v, exact %v %v", e.Family, m.NullMean, m.NullSD, e.NullMean, e.NullSD)
		}
		t.Logf("%s: exact P %.4f (of %d), Monte Carlo %.4f", e.Family, e.P, e.Relabellings, m.P)
	}
	again, _ := WithinBetween(nil, f, s, WithinBetweenOptions{MaxExact: -1, Resamples: 20000, Seed: 11})
	if !reflect.DeepEqual(again, mc) {
		t.Error("same seed, different result")
	}
	if b, err := json.Marshal(mc); err != nil || !strings.Contains(string(b), `"null":"monte carlo"`) {
		t.Errorf("json: %s %v", b, err)
	}
}

// TestContrastFastMatchesSlow: the row-sum formula for W and B against the pair-by-pair definition on
// seeded random matrices and subsets.
func TestContrastFastMatchesSlow(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for trial := range 50 {
		n := 3 + rng.IntN(30)
		s := blockStat(make([]string, n), 0, 0, 1, uint64(trial))
		sym, err := symmetric(s, func(i int) string { return fmt.Sprint(i) })
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float64, n)
		for i := range n {
			for j := range n {
				row[i] += sym[i][j]
			}
		}
		k := 2 + rng.IntN(n-2)
		set := rng.Perm(n)[:k]
		slices.Sort(set)
		in := make([]bool, n)
		for _, i := range set {
			in[i] = true
		}
		w, b := contrast{sym, row}.means(set, n)
		sw, sb, _, _ := slowMeans(s, in)
		if math.Abs(w-sw) > 1e-13 || math.Abs(b-sb) > 1e-13 {
			t.Errorf("n=%d k=%d: %v %v, slow %v %v", n, k, w, b, sw, sb)
		}
	}
}

func TestWithinBetweenErrors(t *testing.T) {
	f := []string{"A", "A", "B"}
	ok := blockStat(f, 1, 0, 0, 1)
	asym := blockStat(f, 1, 0, 0, 1)
	asym[2][0] = 0.5
	nan := blockStat(f, 1, 0, 0, 1)
	nan[1][2] = math.NaN()
	for _, tc := range []struct {
		name     string
		labels   []string
		families []string
		stat     [][]float64
		opts     WithinBetweenOptions
		want     string
		is       error
	}{
		{"asymmetric", []string{"a1", "a2", "b"}, f, asym, WithinBetweenOptions{}, "statistic(a1, b) = 0 but statistic(b, a1) = 0.5", ErrAsymmetric},
		{"NaN", []string{"a1", "a2", "b"}, f, nan, WithinBetweenOptions{}, "statistic(a2, b) = NaN", ErrNonFinite},
		{"one family", nil, []string{"A", "A"}, blockStat([]string{"A", "A"}, 1, 0, 0, 1), WithinBetweenOptions{}, "no between-family pairs", nil},
		{"singletons only", nil, []string{"A", "B"}, blockStat([]string{"A", "B"}, 1, 0, 0, 1), WithinBetweenOptions{}, "no family has two members", nil},
		{"rows", nil, f, ok[:2], WithinBetweenOptions{}, "2 rows, want 3", nil},
		{"columns", nil, f, [][]float64{{0, 1, 0}, {1, 0}, {0, 0, 0}}, WithinBetweenOptions{}, "row 1 (item 1) has 2 columns", nil},
		{"labels", []string{"a"}, f, ok, WithinBetweenOptions{}, "1 labels for 3 families", nil},
		{"resamples", nil, f, ok, WithinBetweenOptions{Resamples: -5}, "-5 resamples", nil},
	} {
		_, err := WithinBetween(tc.labels, tc.families, tc.stat, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// A singleton family takes part in the others' between pairs and is listed, not tested.
	res, err := WithinBetween(nil, []string{"A", "A", "A", "raw"}, blockStat([]string{"A", "A", "A", "raw"}, 1, 0, 0, 1), WithinBetweenOptions{})
	if err != nil || len(res.Families) != 1 || res.Families[0].BetweenPairs != 3 || !slices.Equal(res.Singletons, []string{"raw"}) {
		t.Errorf("singleton: %+v %v", res, err)
	}
}
