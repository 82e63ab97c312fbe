package levlib

import (
	"slices"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/stats"
)

// expectFinding fails unless f is stated (ok) exactly when want is not empty, and then contains want.
func expectFinding(t *testing.T, name string, f Finding, ok bool, want string) {
	t.Helper()
	switch {
	case want == "" && ok:
		t.Errorf("%s: stated %q, want nothing", name, f.Text)
	case want != "" && !ok:
		t.Errorf("%s: not stated, want %q", name, want)
	case want != "" && !strings.Contains(f.Text, want):
		t.Errorf("%s: %q does not say %q", name, f.Text, want)
	case ok && len(f.Numbers) == 0:
		t.Errorf("%s: no numbers", name)
	}
}

func TestBasisFindings(t *testing.T) {
	full := []BasisReport{{Label: "A1", Rank: 200, Cols: 200}}
	deficient := []BasisReport{{Label: "raw", Rank: 713, Cols: 784, NearOne: 18}, {Label: "A1", Rank: 200, Cols: 200}}
	f, ok := rankDeficiencyFinding(full)
	expectFinding(t, "rank, full", f, ok, "")
	f, ok = rankDeficiencyFinding(deficient)
	expectFinding(t, "rank, deficient", f, ok, "raw 713 of 784")
	f, ok = nearOneFinding(full)
	expectFinding(t, "near one, none", f, ok, "")
	f, ok = nearOneFinding(deficient)
	expectFinding(t, "near one", f, ok, "raw 18")
}

// q1Constructed returns a result of the linear classifier (deterministic top-k: one fit per init) with
// family A (3 inits) whose top-k test accuracy is top[i] at k = 1000 and 3000, beside random rows at
// 0.85 ± 0.01 over 5 seeds; the top-k rows' own accuracy is selected.
func q1Constructed(top [3]float64, selected float64) *q1.Result {
	r := &q1.Result{Seeds: 5}
	for _, k := range []int{1000, 3000} {
		for s, acc := range []float64{0.84, 0.85, 0.86, 0.85, 0.845} {
			r.Rows = append(r.Rows, q1.Row{Basis: q1.AnyBasis, Family: q1.AnyBasis, Strategy: q1.StrategyRandom, K: k, Seed: uint64(s + 1),
				Classifier: q1.ClassifierLinear, AccTest: acc, AccTrain: acc + 0.01, AccRest: ptr(acc + 0.01), AccSelected: 0.95})
		}
		for i, acc := range top {
			r.Rows = append(r.Rows, q1.Row{Basis: []string{"A1", "A2", "A3"}[i], Family: "A", Strategy: q1.StrategyTop, K: k, Seed: 1,
				Classifier: q1.ClassifierLinear, AccTest: acc, AccTrain: acc + 0.01 + 0.001*float64(i), AccRest: ptr(acc + 0.01 + 0.001*float64(i)),
				AccSelected: selected + 0.001*float64(i)})
		}
	}
	return r
}

func ptr(v float64) *float64 { return &v }

func TestStrategyEffectFinding(t *testing.T) {
	for _, tc := range []struct {
		name string
		top  [3]float64
		want string
	}{
		{"below", [3]float64{0.70, 0.71, 0.69}, "A -0.149 [-0.169, -0.129] at k = 1000"},
		{"above", [3]float64{0.95, 0.96, 0.94}, "above random at every k"},
		{"indistinguishable", [3]float64{0.80, 0.90, 0.85}, "indistinguishable from random at 2 of 2 k"},
	} {
		f, ok := strategyEffectFinding(q1Constructed(tc.top, 1), q1.ClassifierLinear, q1.StrategyTop)
		expectFinding(t, tc.name, f, ok, tc.want)
		if tc.name == "below" && !strings.Contains(f.Text, "below random at every k") {
			t.Errorf("below: %q", f.Text)
		}
	}
	f, ok := strategyEffectFinding(q1Constructed([3]float64{0.7, 0.7, 0.7}, 1), q1.ClassifierLinear, q1.StrategyBottom)
	expectFinding(t, "no bottom fits", f, ok, "")
	one := q1Constructed([3]float64{0.70, 0.71, 0.69}, 1)
	one.Rows = slices.DeleteFunc(one.Rows, func(r q1.Row) bool { return r.K != 1000 })
	f, ok = strategyEffectFinding(one, q1.ClassifierLinear, q1.StrategyTop)
	expectFinding(t, "one k", f, ok, "at k = 1000 (below random)")
	if strings.Contains(f.Text, "every k") {
		t.Errorf("one k: %q says every k", f.Text)
	}
}

func TestSelectedRowsFinding(t *testing.T) {
	// Random rows: selected 0.95 vs the rest ≈ 0.86, a gap of ≈ 0.09. Top rows with the rest ≈ 0.71:
	for _, tc := range []struct {
		name     string
		selected float64
		want     string
	}{
		{"harder", 0.75, "harder to fit than random rows for A"},
		{"easier", 1.00, "easier to fit than random rows for A"},
		{"no different", 0.80, ""},
	} {
		f, ok := selectedRowsFinding(q1Constructed([3]float64{0.70, 0.70, 0.70}, tc.selected), q1.ClassifierLinear)
		expectFinding(t, tc.name, f, ok, tc.want)
	}
}

func TestTransductiveFinding(t *testing.T) {
	q := &q1.Result{SelectOn: q1.SelectOnPool}
	f, ok := transductiveFinding(q)
	expectFinding(t, "none", f, ok, "")
	q.Sensitivity = []q1.Sensitivity{{Basis: "raw", K: 1000, Shared: 0.975}, {Basis: "A1", K: 1000, Shared: 0.9}}
	f, ok = transductiveFinding(q)
	expectFinding(t, "pool", f, ok, "keeps 90.0–97.5% of the top-1000")
	q.SelectOn = q1.SelectOnTrain
	f, ok = transductiveFinding(q)
	expectFinding(t, "train", f, ok, "the training rows alone")
}

func q2Constructed() *q2.Result {
	return &q2.Result{Bases: []string{"A1", "A2", "A3"}, NullSD: 0.0025, NullBand: rankstat.NullBand{Lo: -0.005, Hi: 0.005},
		Groups: map[string]string{"A1": "A", "A2": "A", "A3": "A"}, InkTau: map[string]float64{"A1": 0.3, "A2": 0.3, "A3": 0.3}}
}

func TestQ2Findings(t *testing.T) {
	q := q2Constructed()
	q.Summaries = []q2.GroupSummary{{GroupA: "A", GroupB: "A", Statistic: "kendall_tau_b", Pairs: 3, Mean: 0.7, Min: 0.65, Max: 0.75}}
	f, ok := nullFinding(q)
	expectFinding(t, "null, beyond", f, ok, "Every pair within A agrees beyond")
	q.Summaries[0].Min = 0.001
	f, ok = nullFinding(q)
	expectFinding(t, "null, not beyond", f, ok, "No group agrees beyond")

	f, ok = withinBetweenFinding(q)
	expectFinding(t, "within/between, not run", f, ok, "")
	q.WithinBetween.Families = []stats.FamilyContrast{{Family: "A", WithinMean: 0.7, BetweenMean: 0.4, P: 0.01, MinP: 0.001, Null: stats.NullExact, Relabellings: 1000}}
	f, ok = withinBetweenFinding(q)
	expectFinding(t, "within/between, specific", f, ok, "specific to the family for A 0.700 within vs 0.400 between")
	q.WithinBetween.Families[0].P = 0.4
	f, ok = withinBetweenFinding(q)
	expectFinding(t, "within/between, not specific", f, ok, "not specific to the family")
	q.WithinBetween.Families[0].MinP = 0.1
	f, ok = withinBetweenFinding(q)
	expectFinding(t, "within/between, untestable", f, ok, "too few bases to test A")

	f, ok = matchedControlFinding(q)
	expectFinding(t, "matched, none", f, ok, "")
	q.Matched = []q2.MatchedControl{{Family: "A", Control: "relu200", Mean: 0.74, Min: 0.72, Max: 0.76, CtlMean: 0.61, CtlMin: 0.6, CtlMax: 0.62, Verdict: "above"}}
	f, ok = matchedControlFinding(q)
	expectFinding(t, "matched, above", f, ok, "A 0.740 (0.720–0.760) vs relu200 0.610 (0.600–0.620): above")

	q = q2Constructed()
	q.Summaries = []q2.GroupSummary{{GroupA: "A", GroupB: "A", Statistic: "kendall_tau_b", Pairs: 3, Mean: 0.70},
		{GroupA: "A", GroupB: "A", Statistic: "partial_tau_ink", Pairs: 3, Mean: 0.68},
		{GroupA: "A", GroupB: "A", Statistic: "binned_tau_ink", Pairs: 3, Mean: 0.69}}
	f, ok = inkFinding(q)
	expectFinding(t, "ink, small", f, ok, "does not explain the agreement: taking it out changes within-family tau-b by at most 0.020")
	q.Summaries[1].Mean = 0.55
	f, ok = inkFinding(q)
	expectFinding(t, "ink, large", f, ok, "Part of the agreement is ink (‖x‖² of the image): taking it out lowers within-family tau-b for A (by 0.150)")
	q.Summaries[1].Mean = 0.85
	f, ok = inkFinding(q)
	expectFinding(t, "ink, opposite", f, ok, "Taking ink out raises within-family tau-b for A (by 0.150)")

	f, ok = ridgeFinding(q)
	expectFinding(t, "ridge, none", f, ok, "")
	q.Ridge = []q2.RidgeControl{{Basis: "raw", LambdaRel: 1e-6, K: 1000, TopKShared: 0.99}, {Basis: "A1", LambdaRel: 1e-6, K: 1000, TopKShared: 0.97},
		{Basis: "raw", LambdaRel: 1e-3, K: 1000, TopKShared: 0.95}, {Basis: "A1", LambdaRel: 1e-3, K: 1000, TopKShared: 0.92}}
	f, ok = ridgeFinding(q)
	expectFinding(t, "ridge, little", f, ok, "decides little of the top-1000")
	q.Ridge[3].TopKShared = 0.699
	f, ok = ridgeFinding(q)
	expectFinding(t, "ridge, part", f, ok, "decides part of the top-1000 (below 90% kept at λ = 1e-03)")
	if !strings.Contains(f.Text, "λ = 1e-06: 97–99%") || !strings.Contains(f.Text, "70–95% (lowest A1)") {
		t.Errorf("ridge finding does not cover the λ grid: %q", f.Text)
	}

	f, ok = tiesFinding(q)
	expectFinding(t, "ties, none", f, ok, "")
	q.Ties = map[string]rankstat.TieInfo{"A1": {Rows: 18, Groups: 1}}
	f, ok = tiesFinding(q)
	expectFinding(t, "ties", f, ok, "A1 18 rows in 1 group")
}
