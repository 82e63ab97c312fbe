package q2

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/stats"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// defaultOverlapK is the k grid of top-k overlaps.
var defaultOverlapK = []int{10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000}

// PairStats compares the leverage rankings of two bases.
type PairStats struct {
	A            string             `json:"a"`
	B            string             `json:"b"`
	KendallTauB  float64            `json:"kendall_tau_b"`
	SwapDistance float64            `json:"swap_distance"`
	Spearman     float64            `json:"spearman"`
	WeightedTau  float64            `json:"weighted_tau"`
	Overlap      []rankstat.Overlap `json:"overlap"`
	// PartialTauInk is Kendall's partial tau given ink (‖x‖² of the raw image),
	// (τ_ab − τ_a,ink·τ_b,ink)/√((1−τ_a,ink²)(1−τ_b,ink²)); BinnedTauInk is the mean tau-b within ten
	// equal-size bins of ink. Both are the agreement that the shared factor "ink" does not explain.
	PartialTauInk float64 `json:"partial_tau_ink"`
	BinnedTauInk  float64 `json:"binned_tau_ink"`
}

// ComparePair computes PairStats for two score vectors over the k grid ks (each in 1..len(x); see
// OverlapGrid). Scores equal within rankstat.DefaultTieTolerance are ties in every statistic
// (rankstat.TieWithin): the order of rows whose leverage differs only by rounding — the rows at ℓ ≈ 1 —
// is not a ranking.
func ComparePair(a, b string, x, y []float64, ks []int) (*PairStats, error) {
	x, _, err := rankstat.TieWithin(x, rankstat.DefaultTieTolerance)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a, err)
	}
	y, _, err = rankstat.TieWithin(y, rankstat.DefaultTieTolerance)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b, err)
	}
	k, err := rankstat.KendallTauB(x, y)
	if err != nil {
		return nil, fmt.Errorf("%s vs %s: %w", a, b, err)
	}
	if math.IsNaN(k.TauB) {
		return nil, fmt.Errorf("%s vs %s: a ranking is constant (every score equal within %g): no rank correlation", a, b, rankstat.DefaultTieTolerance)
	}
	rho, err := rankstat.Spearman(x, y)
	if err != nil {
		return nil, err
	}
	wt, err := rankstat.WeightedTau(x, y)
	if err != nil {
		return nil, err
	}
	for _, kk := range ks {
		if kk < 1 || kk > len(x) {
			return nil, fmt.Errorf("%s vs %s: top-k overlap with k = %d outside 1..%d", a, b, kk, len(x))
		}
	}
	ov, err := rankstat.TopKOverlap(x, y, ks)
	if err != nil {
		return nil, err
	}
	return &PairStats{A: a, B: b, KendallTauB: k.TauB, SwapDistance: k.SwapDistance, Spearman: rho, WeightedTau: wt, Overlap: ov}, nil
}

// Options configures Run. The zero value uses the values of DefaultOverlapK up to N/2, 200 shuffles
// with seed 1 for the null band, the ink control and no ridge control.
type Options struct {
	// K is the top-k grid for overlaps and consistently chosen samples: each in 1..N−1.
	K []int `json:"k"`
	// Shuffles and ShuffleSeed make the empirical null band of tau-b (its 2.5–97.5% quantiles);
	// ShuffleSeed also seeds the permutations of the within/between test.
	Shuffles    int    `json:"shuffles"`
	ShuffleSeed uint64 `json:"shuffle_seed"`
	// RidgeRel lists relative ridge parameters: for each basis and each c, ridge leverage with
	// λ = c·trace(XᵀX)/D (c times the mean eigenvalue of XᵀX) is compared with the exact scores, to show
	// how much of a top-k set is decided by the rank cut-off.
	RidgeRel []float64 `json:"ridge_rel"`
	// RidgeK is the k of the ridge control's top-k overlap (0 means 1000, clipped to N/2).
	RidgeK int `json:"ridge_k"`
}

// GroupSummary summarizes a statistic over the pairs within a group or between two groups.
type GroupSummary struct {
	GroupA    string  `json:"group_a"`
	GroupB    string  `json:"group_b"`
	Statistic string  `json:"statistic"`
	Pairs     int     `json:"pairs"`
	Mean      float64 `json:"mean"`
	SD        float64 `json:"sd"`
	Min       float64 `json:"min"`
	Max       float64 `json:"max"`
}

// Consensus counts the rows that all members of a group put in their top-k (Chosen) and that none
// does (Never), against the counts expected if the members chose independently at random:
// N·(k/N)^m and N·(1−k/N)^m for m members.
type Consensus struct {
	Group          string  `json:"group"`
	Members        int     `json:"members"`
	K              int     `json:"k"`
	Chosen         []int   `json:"chosen"`
	ExpectedChosen float64 `json:"expected_chosen"`
	Never          int     `json:"never"`
	ExpectedNever  float64 `json:"expected_never"`
	// ChosenLabels is the class histogram of the Chosen rows.
	ChosenLabels [10]int `json:"chosen_labels"`
}

// RidgeControl compares one basis's ridge leverage at λ with its exact scores.
type RidgeControl struct {
	Basis     string  `json:"basis"`
	LambdaRel float64 `json:"lambda_rel"` // λ / (trace(XᵀX)/D)
	Lambda    float64 `json:"lambda"`
	// EffectiveRank is Σℓ(λ) = Σσ²/(σ²+λ).
	EffectiveRank float64 `json:"effective_rank"`
	KendallTauB   float64 `json:"kendall_tau_b"` // ridge vs exact
	K             int     `json:"k"`
	// TopKShared is |top-k(ridge) ∩ top-k(exact)| / k.
	TopKShared float64 `json:"topk_shared"`
	NearOne    int     `json:"near_one"` // rows with ℓ(λ) > 0.99
}

// Result is the analysis of Question 2.
type Result struct {
	// Rows is the number of rows ranked (N); OverlapK the k grid of the overlaps and consensus sets.
	Rows      int               `json:"rows"`
	OverlapK  []int             `json:"overlap_k"`
	Bases     []string          `json:"bases"`
	Groups    map[string]string `json:"groups"` // basis → group
	Ranks     map[string]int    `json:"ranks"`
	Pairs     []*PairStats      `json:"pairs"`
	NullSD    float64           `json:"null_sd"`   // closed-form SD of tau under random permutation
	NullBand  rankstat.NullBand `json:"null_band"` // empirical, from shuffles
	Summaries []GroupSummary    `json:"summaries"`
	Consensus []Consensus       `json:"consensus"`
	// InkTau is Kendall tau-b between each basis's leverage and the ink ‖x‖² of the raw images.
	InkTau map[string]float64 `json:"ink_tau"`
	Ridge  []RidgeControl     `json:"ridge,omitempty"`
	// Ties is, per basis, what rankstat.TieWithin tied: every statistic treats those rows as ties.
	Ties map[string]rankstat.TieInfo `json:"ties"`
	// WithinBetween tests, per family, whether tau-b within the family exceeds tau-b between it and
	// the other bases (a permutation test over the family labels, stats.WithinBetween).
	WithinBetween stats.WithinBetweenResult `json:"within_between"`
	// Matched compares each family's agreement with that of random ReLU features of the same width.
	Matched []MatchedControl `json:"matched_controls"`
	// NearOne is each basis's count of rows with ℓ > 0.99.
	NearOne  map[string]int `json:"near_one"`
	Warnings []string       `json:"warnings,omitempty"`
	scores   map[string][]float64
}

func (opts Options) withDefaults(n int) Options {
	if len(opts.K) == 0 {
		opts.K = OverlapGrid(n)
	}
	if opts.Shuffles == 0 {
		opts.Shuffles = 200
	}
	if opts.ShuffleSeed == 0 {
		opts.ShuffleSeed = 1
	}
	return opts
}

// Run compares the leverage rankings of bases on the workspace's data: every pair by Kendall tau-b,
// swap distance, Spearman, weighted tau and top-k overlaps, with the null distribution of tau;
// summaries within and between groups (families); the rows that every member of a group puts in its
// top-k; and the controls (ink; ridge leverage when opts.RidgeRel is set). Each basis's leverage comes
// from the workspace (computed once, cached), and the result itself is cached in ws.Cache by the data,
// the bases and the options, so that asking again (a notebook cell run twice) takes seconds.
func Run(ctx context.Context, ws *workspace.Workspace, bases []basis.Spec, opts Options) (*Result, error) {
	if len(bases) < 2 {
		return nil, fmt.Errorf("q2 needs at least 2 bases, got %d", len(bases))
	}
	opts = opts.withDefaults(ws.Data.N())
	// v3: the ridge control ranks tied scores; the tie tolerance is part of every statistic.
	key := fmt.Sprintf("q2 v3 (%s) %s ties=%g options=%+v", workspace.LeverageCacheVersion, mnist.DataKey(ws.Data),
		rankstat.DefaultTieTolerance, opts)
	for _, spec := range bases {
		id, err := ws.BasisID(spec)
		if err != nil {
			return nil, err
		}
		key += " basis=" + id
	}
	var cached Result
	ok, err := ws.Cache.LoadValue("q2", key, &cached)
	if err != nil {
		ws.Warning(fmt.Errorf("recomputing: %w", err))
	}
	if ok && err == nil {
		cached.scores = map[string][]float64{}
		for _, spec := range bases {
			label, _ := basis.Label(spec)
			lev, err := ws.Leverage(ctx, spec, leverage.Options{})
			if err != nil {
				return nil, err
			}
			if cached.scores[label], _, err = rankstat.TieWithin(lev.Scores, rankstat.DefaultTieTolerance); err != nil {
				return nil, fmt.Errorf("basis %s: %w", label, err)
			}
		}
		return &cached, nil
	}
	res, err := run(ctx, ws, bases, opts)
	if err != nil {
		return nil, err
	}
	if err := ws.Cache.SaveValue("q2", key, res); err != nil {
		ws.Warning(fmt.Errorf("not cached: %w", err))
	}
	return res, nil
}

// run computes Run's result.
func run(ctx context.Context, ws *workspace.Workspace, bases []basis.Spec, opts Options) (*Result, error) {
	n := ws.Data.N()
	for _, k := range opts.K {
		if k < 1 || k >= n {
			return nil, fmt.Errorf("q2: k = %d outside 1..%d (the %d rows)", k, n-1, n)
		}
	}
	res := &Result{Rows: n, OverlapK: slices.Clone(opts.K), Groups: map[string]string{}, Ranks: map[string]int{}, scores: map[string][]float64{}, InkTau: map[string]float64{},
		NearOne: map[string]int{}, Ties: map[string]rankstat.TieInfo{}}
	dims := map[string]int{}
	for _, spec := range bases {
		label, group := basis.Label(spec)
		if _, dup := res.scores[label]; dup {
			return nil, fmt.Errorf("basis %s given twice", label)
		}
		lev, err := ws.Leverage(ctx, spec, leverage.Options{})
		if err != nil {
			return nil, err
		}
		res.Bases = append(res.Bases, label)
		res.Groups[label] = group
		res.Ranks[label] = lev.Rank
		res.NearOne[label] = lev.NearOne
		dims[label] = lev.Cols
		tied, info, err := rankstat.TieWithin(lev.Scores, rankstat.DefaultTieTolerance)
		if err != nil {
			return nil, fmt.Errorf("basis %s: %w", label, err)
		}
		res.scores[label], res.Ties[label] = tied, info
		for _, w := range lev.Warnings {
			res.Warnings = append(res.Warnings, label+": "+w.Error())
		}
	}
	ink := mnist.Ink(ws.Data)
	bins := inkBins(ink, 10)
	for _, b := range res.Bases {
		k, err := rankstat.KendallTauB(res.scores[b], ink)
		if err != nil {
			return nil, err
		}
		res.InkTau[b] = k.TauB
	}
	for i, a := range res.Bases {
		for _, b := range res.Bases[i+1:] {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p, err := ComparePair(a, b, res.scores[a], res.scores[b], opts.K)
			if err != nil {
				return nil, err
			}
			ta, tb := res.InkTau[a], res.InkTau[b]
			if den := math.Sqrt((1 - ta*ta) * (1 - tb*tb)); den > 0 {
				p.PartialTauInk = (p.KendallTauB - ta*tb) / den
			} // else a basis ranks rows exactly as ink does: nothing is left to correlate (0)
			if p.BinnedTauInk, err = binnedTau(res.scores[a], res.scores[b], bins); err != nil {
				return nil, err
			}
			res.Pairs = append(res.Pairs, p)
		}
	}
	if len(opts.RidgeRel) > 0 {
		if err := ridgeControls(ctx, ws, bases, res, opts); err != nil {
			return nil, err
		}
	}
	res.NullSD = rankstat.KendallNullSD(n)
	first := res.scores[res.Bases[0]]
	band, err := rankstat.ShuffleNull(ctx, first, first, opts.Shuffles, opts.ShuffleSeed)
	if err != nil {
		return nil, err
	}
	res.NullBand = band
	res.Summaries = summarize(res)
	res.Consensus = consensus(res, ws.Data, opts.K)
	if res.WithinBetween, err = withinBetween(res, opts.ShuffleSeed); err != nil {
		return nil, err
	}
	res.Matched = matchedControls(res, dims)
	return res, nil
}

// Scores returns the leverage scores of a basis by label, ties made exact (rankstat.TieWithin): the
// scores every statistic of the result ranked. The slice is the result's: do not modify it.
func (r *Result) Scores(label string) []float64 { return r.scores[label] }

// summarize describes each statistic over the pairs within each group and between each two groups.
// The pairs share bases, so they are not independent: the summaries are descriptive (mean, SD,
// range); the test of within against between is WithinBetween.
func summarize(r *Result) []GroupSummary {
	groups := []string{}
	for _, b := range r.Bases {
		if g := r.Groups[b]; !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	statistics := []struct {
		name string
		get  func(p *PairStats) float64
	}{
		{"kendall_tau_b", func(p *PairStats) float64 { return p.KendallTauB }},
		{"partial_tau_ink", func(p *PairStats) float64 { return p.PartialTauInk }},
		{"binned_tau_ink", func(p *PairStats) float64 { return p.BinnedTauInk }},
		{"spearman", func(p *PairStats) float64 { return p.Spearman }},
		{"weighted_tau", func(p *PairStats) float64 { return p.WeightedTau }},
	}
	var out []GroupSummary
	for i, ga := range groups {
		for _, gb := range groups[i:] {
			for _, st := range statistics {
				var vals []float64
				for _, p := range r.Pairs {
					a, b := r.Groups[p.A], r.Groups[p.B]
					if (a == ga && b == gb) || (a == gb && b == ga) {
						vals = append(vals, st.get(p))
					}
				}
				if len(vals) == 0 {
					continue
				}
				d, _ := stats.Describe(vals)
				out = append(out, GroupSummary{GroupA: ga, GroupB: gb, Statistic: st.name, Pairs: len(vals), Mean: d.Mean, SD: d.SD, Min: d.Min, Max: d.Max})
			}
		}
	}
	return out
}

func consensus(r *Result, ds *mnist.Dataset, ks []int) []Consensus {
	members := map[string][]string{}
	var groups []string
	for _, b := range r.Bases {
		g := r.Groups[b]
		if _, ok := members[g]; !ok {
			groups = append(groups, g)
		}
		members[g] = append(members[g], b)
	}
	n := ds.N()
	var out []Consensus
	for _, g := range groups {
		m := members[g]
		if len(m) < 2 {
			continue
		}
		for _, k := range ks {
			if k > n {
				continue
			}
			count := make([]int, n)
			for _, b := range m {
				for _, i := range rankstat.TopK(r.scores[b], k) {
					count[i]++
				}
			}
			c := Consensus{Group: g, Members: len(m), K: k, Chosen: []int{}}
			p := float64(k) / float64(n)
			c.ExpectedChosen = float64(n) * math.Pow(p, float64(len(m)))
			c.ExpectedNever = float64(n) * math.Pow(1-p, float64(len(m)))
			for i, cnt := range count {
				switch cnt {
				case len(m):
					c.Chosen = append(c.Chosen, i)
					c.ChosenLabels[ds.Labels[i]]++
				case 0:
					c.Never++
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// OverlapGrid returns the values of DefaultOverlapK up to n/2: the default k grid for n rows.
func OverlapGrid(n int) []int {
	var ks []int
	for _, k := range defaultOverlapK {
		if k <= n/2 {
			ks = append(ks, k)
		}
	}
	return ks
}

// DefaultOverlapK returns the default k grid of top-k overlaps, 10 … 20,000 (a copy).
func DefaultOverlapK() []int {
	return slices.Clone(defaultOverlapK)
}
