package q2

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/levlib/stats"
)

// withinBetween runs stats.WithinBetween on Kendall's tau-b between every pair of bases, the bases'
// groups as families.
func withinBetween(r *Result, seed uint64) (stats.WithinBetweenResult, error) {
	tau := r.matrix(func(p *PairStats) float64 { return p.KendallTauB })
	fams := make([]string, len(r.Bases))
	for i, b := range r.Bases {
		fams[i] = r.Groups[b]
	}
	if len(slices.Compact(slices.Sorted(slices.Values(fams)))) < 2 {
		return stats.WithinBetweenResult{}, nil // one family: nothing to compare it with
	}
	opts := stats.DefaultWithinBetweenOptions()
	opts.Seed = seed
	res, err := stats.WithinBetween(r.Bases, fams, tau, opts)
	if err != nil {
		return res, fmt.Errorf("q2 within/between families: %w", err)
	}
	return res, nil
}

// MatchedControl compares the agreement within a family (Kendall's tau-b over its pairs of inits) with
// the agreement within random ReLU features of the same width — the family's matched random-basis
// control: relu (784 features) for RAW-width bases, relu200 for the networks' 200-d embeddings.
// Random features agree without any learning, because any basis of nonnegative features built from
// the pixels ranks rows partly by the same things (ink, outlying images); a trained family must be
// read against that, and against features of its own dimension, since agreement between random bases
// falls with their width.
//
// Verdict is "above" when every pair within the family agrees more than every pair within the
// control (the ranges do not overlap), "below" in the opposite case, else "overlapping": the pairs
// share bases, so their ranges — not an interval over pairs treated as independent — are compared.
type MatchedControl struct {
	Family    string  `json:"family"`
	Dim       int     `json:"dim"`
	Control   string  `json:"control"`
	Pairs     int     `json:"pairs"`
	Mean      float64 `json:"mean"`
	Min       float64 `json:"min"`
	Max       float64 `json:"max"`
	CtlPairs  int     `json:"control_pairs"`
	CtlMean   float64 `json:"control_mean"`
	CtlMin    float64 `json:"control_min"`
	CtlMax    float64 `json:"control_max"`
	Verdict   string  `json:"verdict"`
	Reference string  `json:"reference"` // what the control is, in words
}

// reluFamily is the group of ReLU features of width d (see basis.Label).
func reluFamily(d int) string {
	if d == 784 {
		return "relu"
	}
	return fmt.Sprintf("relu%d", d)
}

// matchedControls returns a MatchedControl for each non-ReLU family with pairs whose width-matched
// ReLU family has pairs too.
func matchedControls(r *Result, dims map[string]int) []MatchedControl {
	var out []MatchedControl
	for _, f := range r.Families() {
		if strings.HasPrefix(f, "relu") {
			continue
		}
		var d int
		for _, b := range r.Bases {
			if r.Groups[b] == f {
				d = dims[b]
				break
			}
		}
		ctl := reluFamily(d)
		fs, ok1 := r.GroupStat(f, f, "kendall_tau_b")
		cs, ok2 := r.GroupStat(ctl, ctl, "kendall_tau_b")
		if !ok1 || !ok2 {
			continue
		}
		m := MatchedControl{Family: f, Dim: d, Control: ctl, Pairs: fs.Pairs, Mean: fs.Mean, Min: fs.Min, Max: fs.Max,
			CtlPairs: cs.Pairs, CtlMean: cs.Mean, CtlMin: cs.Min, CtlMax: cs.Max, Verdict: "overlapping",
			Reference: fmt.Sprintf("ReLU features of %d random projections of the pixels (different seeds)", d)}
		switch {
		case fs.Min > cs.Max:
			m.Verdict = "above"
		case fs.Max < cs.Min:
			m.Verdict = "below"
		}
		out = append(out, m)
	}
	return out
}

// GroupStat returns the summary of a statistic between two groups (in either order), and whether it is
// there.
func (r *Result) GroupStat(a, b, stat string) (GroupSummary, bool) {
	for _, s := range r.Summaries {
		if s.Statistic == stat && ((s.GroupA == a && s.GroupB == b) || (s.GroupA == b && s.GroupB == a)) {
			return s, true
		}
	}
	return GroupSummary{}, false
}

// InkChange is how much within-family agreement changes when ink is taken out: mean tau-b minus mean
// partial tau given ink, over the family's pairs.
func (r *Result) InkChange(family string) (tau, partial, binned float64, ok bool) {
	t, ok1 := r.GroupStat(family, family, "kendall_tau_b")
	p, ok2 := r.GroupStat(family, family, "partial_tau_ink")
	b, ok3 := r.GroupStat(family, family, "binned_tau_ink")
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, false
	}
	return t.Mean, p.Mean, b.Mean, !math.IsNaN(p.Mean)
}
