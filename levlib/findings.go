package levlib

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/rankstat"
)

// Finding is one sentence of the report's findings, computed from a run's numbers: Numbers holds the
// values it cites (by name) and Link the report section it summarizes.
type Finding struct {
	Text    string             `json:"text"`
	Numbers map[string]float64 `json:"numbers"`
	Link    string             `json:"link"`
}

// Findings states what a run found, in sentences generated from its numbers (never hard-coded). Each
// finding is one function below whose doc comment gives its rule: when it is stated and what it says
// otherwise.
func Findings(r *StudyResult) []Finding {
	var out []Finding
	add := func(f Finding, ok bool) {
		if ok {
			out = append(out, f)
		}
	}
	add(rankDeficiencyFinding(r.Bases))
	add(nearOneFinding(r.Bases))
	if r.Q1 != nil {
		for _, cl := range r.Q1.Classifiers() {
			for _, st := range []q1.Strategy{q1.StrategyTop, q1.StrategyBottom, q1.StrategySampled, q1.StrategyBalanced} {
				add(strategyEffectFinding(r.Q1, cl, st))
			}
			add(selectedRowsFinding(r.Q1, cl))
		}
		add(transductiveFinding(r.Q1))
	}
	if r.Q2 != nil {
		add(nullFinding(r.Q2))
		add(withinBetweenFinding(r.Q2))
		add(matchedControlFinding(r.Q2))
		add(inkFinding(r.Q2))
		add(ridgeFinding(r.Q2))
		add(tiesFinding(r.Q2))
	}
	return out
}

// rankDeficiencyFinding is stated when a basis has rank below its number of columns; it lists them.
func rankDeficiencyFinding(bases []BasisReport) (Finding, bool) {
	var parts []string
	nums := map[string]float64{}
	for _, b := range bases {
		if b.Rank < b.Cols {
			parts = append(parts, fmt.Sprintf("%s %d of %d", b.Label, b.Rank, b.Cols))
			nums["rank_"+b.Label], nums["cols_"+b.Label] = float64(b.Rank), float64(b.Cols)
		}
	}
	return Finding{Text: fmt.Sprintf("Rank-deficient bases (rank of columns): %s. Exact, rank-aware leverage sums to the rank; the seed's plain QR counts every column and gives the rows of dependent directions leverage ≈ 1.",
		strings.Join(parts, ", ")), Numbers: nums, Link: "bases"}, len(parts) > 0
}

// nearOneFinding is stated when a basis has rows with ℓ > 0.99 (each alone spans a direction of the
// column space); it lists their counts.
func nearOneFinding(bases []BasisReport) (Finding, bool) {
	var parts []string
	nums := map[string]float64{}
	for _, b := range bases {
		if b.NearOne > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", b.Label, b.NearOne))
			nums["near_one_"+b.Label] = float64(b.NearOne)
		}
	}
	return Finding{Text: fmt.Sprintf("Rows with leverage above 0.99 (each alone spans a direction; their order among themselves is rounding, so they are ties in every ranking): %s.",
		strings.Join(parts, ", ")), Numbers: nums, Link: "bases"}, len(parts) > 0
}

// verdict words of a Diff's sign.
var verdictWord = map[int]string{-1: "below random", 0: "indistinguishable from random", 1: "above random"}

// strategyEffectFinding states, for one classifier and one strategy, the effect on test accuracy
// against random rows per family: the estimate and its 95% interval at the k closest to 1,000, and a
// verdict over the whole k grid — "below random at every k" when every interval lies below 0, "above
// random at every k" when every one lies above, else the count of k where it is below, above or
// indistinguishable. It is stated when the classifier has fits of the strategy.
func strategyEffectFinding(q *q1.Result, cl q1.Classifier, st q1.Strategy) (Finding, bool) {
	byFam := map[string][]q1.Effect{}
	var fams []string
	for _, e := range q.Effects() {
		if e.Classifier != cl || e.Strategy != st {
			continue
		}
		if _, ok := byFam[e.Family]; !ok {
			fams = append(fams, e.Family)
		}
		byFam[e.Family] = append(byFam[e.Family], e)
	}
	if len(fams) == 0 {
		return Finding{}, false
	}
	nums := map[string]float64{}
	var parts []string
	for _, f := range fams {
		es := byFam[f]
		ref := es[0]
		signs := map[int]int{}
		for _, e := range es {
			signs[e.Test.Sign()]++
			if closerTo1000(e.K, ref.K) {
				ref = e
			}
		}
		var v string
		switch {
		case len(es) == 1:
			v = verdictWord[ref.Test.Sign()]
		case signs[-1] == len(es):
			v = "below random at every k"
		case signs[1] == len(es):
			v = "above random at every k"
		default:
			var c []string
			for _, sg := range []int{-1, 1, 0} {
				if signs[sg] > 0 {
					c = append(c, fmt.Sprintf("%s at %d", verdictWord[sg], signs[sg]))
				}
			}
			v = strings.Join(c, ", ") + fmt.Sprintf(" of %d k", len(es))
		}
		parts = append(parts, fmt.Sprintf("%s %+.3f [%+.3f, %+.3f] at k = %d (%s)", f, ref.Test.Estimate, ref.Test.Lo, ref.Test.Hi, ref.K, v))
		key := fmt.Sprintf("%s_%s_minus_random_k%d", f, st, ref.K)
		nums[key], nums[key+"_lo"], nums[key+"_hi"] = ref.Test.Estimate, ref.Test.Lo, ref.Test.Hi
	}
	what := map[q1.Strategy]string{q1.StrategyTop: "the top-k leverage rows", q1.StrategyBottom: "the bottom-k leverage rows",
		q1.StrategySampled: "leverage-proportional samples", q1.StrategyBalanced: "the class-balanced top-k"}[st]
	return Finding{Text: fmt.Sprintf("%s classifier trained on %s, test accuracy minus random rows' (95%% interval; %d seeds per cell, a deterministic fit once; families over their inits): %s.",
		cl, what, q.Seeds, strings.Join(parts, "; ")), Numbers: nums, Link: "q1"}, true
}

// closerTo1000 reports whether k is closer to 1,000 than ref in log scale.
func closerTo1000(k, ref int) bool {
	return math.Abs(math.Log(float64(k)/1000)) < math.Abs(math.Log(float64(ref)/1000))
}

// selectedRowsFinding asks whether the top-k rows are unlike the rest, for one classifier: a model
// fits the rows it was trained on better than other rows, by more the fewer rows it saw, so the gap
// acc_selected − acc_rest (the evaluation training rows it was not trained on) of the top-k is compared with the same gap for random rows of the same k
// (Effect.Gap). It is stated when the gap difference at the k closest to 1,000 has an interval that
// excludes 0 for some family: "harder" when the top-k's gap is smaller (the model fits them less
// well relative to the rest than random rows), "easier" when larger; families whose interval
// contains 0 are listed as no different.
func selectedRowsFinding(q *q1.Result, cl q1.Classifier) (Finding, bool) {
	ref := map[string]q1.Effect{}
	var fams []string
	for _, e := range q.Effects() {
		if e.Classifier != cl || e.Strategy != q1.StrategyTop || e.Gap == nil {
			continue
		}
		if r, ok := ref[e.Family]; !ok || closerTo1000(e.K, r.K) {
			if !ok {
				fams = append(fams, e.Family)
			}
			ref[e.Family] = e
		}
	}
	var harder, easier, same []string
	nums := map[string]float64{}
	for _, f := range fams {
		e := ref[f]
		s := fmt.Sprintf("%s %+.3f [%+.3f, %+.3f] at k = %d", f, e.Gap.Estimate, e.Gap.Lo, e.Gap.Hi, e.K)
		nums["gap_"+f], nums["gap_"+f+"_lo"], nums["gap_"+f+"_hi"] = e.Gap.Estimate, e.Gap.Lo, e.Gap.Hi
		switch e.Gap.Sign() {
		case -1:
			harder = append(harder, s)
		case 1:
			easier = append(easier, s)
		default:
			same = append(same, f)
		}
	}
	if len(harder)+len(easier) == 0 {
		return Finding{}, false
	}
	var parts []string
	if len(harder) > 0 {
		parts = append(parts, "harder to fit than random rows for "+strings.Join(harder, "; "))
	}
	if len(easier) > 0 {
		parts = append(parts, "easier to fit than random rows for "+strings.Join(easier, "; "))
	}
	if len(same) > 0 {
		parts = append(parts, "no different for "+strings.Join(same, ", "))
	}
	return Finding{Text: fmt.Sprintf("%s classifier: accuracy on the selected rows minus on the other training rows, top-k minus the same gap for random rows (95%% interval): the top-k rows are %s.",
		cl, strings.Join(parts, "; ")), Numbers: nums, Link: "q1"}, true
}

// transductiveFinding states how much the selection depends on the test images: the share of each
// basis's top-k kept when leverage is computed on the training rows alone (Result.Sensitivity), its
// range over bases at each k, and which source the run selected by. It is stated when the
// sensitivity was computed.
func transductiveFinding(q *q1.Result) (Finding, bool) {
	byK := map[int][]float64{}
	var ks []int
	for _, s := range q.Sensitivity {
		if _, ok := byK[s.K]; !ok {
			ks = append(ks, s.K)
		}
		byK[s.K] = append(byK[s.K], s.Shared)
	}
	if len(ks) == 0 {
		return Finding{}, false
	}
	slices.Sort(ks)
	nums := map[string]float64{}
	var parts []string
	for _, k := range ks {
		lo, hi := slices.Min(byK[k]), slices.Max(byK[k])
		parts = append(parts, fmt.Sprintf("%.1f–%.1f%% of the top-%d", 100*lo, 100*hi, k))
		nums[fmt.Sprintf("shared_min_k%d", k)], nums[fmt.Sprintf("shared_max_k%d", k)] = lo, hi
	}
	src := "all pool rows, test images included (transductive, as the original study); -select-on train selects without them"
	if q.SelectOn == q1.SelectOnTrain {
		src = "the training rows alone (the test images play no part)"
	}
	return Finding{Text: fmt.Sprintf("Selection in this run used the leverage of %s. Leverage computed on the training rows alone keeps %s over the bases.",
		src, strings.Join(parts, ", ")), Numbers: nums, Link: "q1"}, true
}

// nullFinding compares agreement within each group of bases with the permutation null: a group
// "agrees beyond the null" when every pair's tau-b is above the null band's 97.5% quantile and its
// mean exceeds 10 null SDs. It is stated when some group has a pair, naming the groups that do and
// those that do not.
func nullFinding(q *q2.Result) (Finding, bool) {
	var beyond, not, parts []string
	nums := map[string]float64{"null_sd": q.NullSD, "null_q975": q.NullBand.Hi}
	for _, s := range q.Summaries {
		if s.Statistic != "kendall_tau_b" || s.GroupA != s.GroupB {
			continue
		}
		if s.Min > q.NullBand.Hi && s.Mean > 10*q.NullSD {
			beyond = append(beyond, s.GroupA)
		} else {
			not = append(not, s.GroupA)
		}
		if s.Pairs > 1 {
			parts = append(parts, fmt.Sprintf("%s %.3f (%d pairs, %.3f–%.3f)", s.GroupA, s.Mean, s.Pairs, s.Min, s.Max))
		} else {
			parts = append(parts, fmt.Sprintf("%s %.3f (1 pair)", s.GroupA, s.Mean))
		}
		nums["tau_within_"+s.GroupA] = s.Mean
	}
	if len(parts) == 0 {
		return Finding{}, false
	}
	verdict := "Every pair within " + strings.Join(beyond, ", ") + " agrees beyond the permutation null"
	switch {
	case len(beyond) == 0:
		verdict = "No group agrees beyond the permutation null at every pair (" + strings.Join(not, ", ") + ")"
	case len(not) > 0:
		verdict += "; not every pair within " + strings.Join(not, ", ")
	}
	return Finding{Text: fmt.Sprintf("%s: Kendall tau-b within %s; under random permutation tau-b is 0 ± %.4f (SD), %s. Any two bases built from the same pixels beat this null; the yardsticks that matter follow.",
		verdict, strings.Join(parts, ", "), q.NullSD, q.NullBand.Describe()), Numbers: nums, Link: "q2"}, true
}

// withinBetweenFinding states, per family with two or more members, whether its members agree more
// with each other than with the other bases: the within and between means of tau-b and the one-sided
// p-value of the permutation test over family labels (q2.Result.WithinBetween). A family is "specific"
// when p ≤ 0.05, else its agreement "is not specific to the family"; families whose null cannot reach
// 0.05 (too few relabellings) are said to be untestable. It is stated when the test ran.
func withinBetweenFinding(q *q2.Result) (Finding, bool) {
	var specific, not, untestable []string
	nums := map[string]float64{}
	for _, c := range q.WithinBetween.Families {
		s := fmt.Sprintf("%s %.3f within vs %.3f between (p = %.3g, %s over %d relabellings)", c.Family, c.WithinMean, c.BetweenMean, c.P, c.Null, c.Relabellings)
		nums["within_"+c.Family], nums["between_"+c.Family], nums["p_"+c.Family] = c.WithinMean, c.BetweenMean, c.P
		switch {
		case c.MinP > 0.05:
			untestable = append(untestable, fmt.Sprintf("%s (the smallest p its %d relabellings allow is %.2g)", c.Family, c.Relabellings, c.MinP))
		case c.P <= 0.05:
			specific = append(specific, s)
		default:
			not = append(not, s)
		}
	}
	if len(specific)+len(not)+len(untestable) == 0 {
		return Finding{}, false
	}
	var parts []string
	if len(specific) > 0 {
		parts = append(parts, "agreement specific to the family for "+strings.Join(specific, "; "))
	}
	if len(not) > 0 {
		parts = append(parts, "not specific to the family (its members agree with other bases as much) for "+strings.Join(not, "; "))
	}
	if len(untestable) > 0 {
		parts = append(parts, "too few bases to test "+strings.Join(untestable, ", "))
	}
	return Finding{Text: "Within- versus between-family agreement (Kendall tau-b; one-sided permutation test over the family labels, each family at 5% without a multiplicity correction): " +
		strings.Join(parts, "; ") + ".", Numbers: nums, Link: "q2"}, true
}

// matchedControlFinding compares each family's within-family tau-b with the agreement of random ReLU
// features of the same width (q2.MatchedControl): "above" or "below" when the ranges over pairs do not
// overlap, else "overlapping". It is stated when a family has a matched control.
func matchedControlFinding(q *q2.Result) (Finding, bool) {
	if len(q.Matched) == 0 {
		return Finding{}, false
	}
	nums := map[string]float64{}
	var parts []string
	for _, m := range q.Matched {
		parts = append(parts, fmt.Sprintf("%s %.3f (%.3f–%.3f) vs %s %.3f (%.3f–%.3f): %s", m.Family, m.Mean, m.Min, m.Max, m.Control, m.CtlMean, m.CtlMin, m.CtlMax, m.Verdict))
		nums["tau_within_"+m.Family], nums["tau_within_"+m.Control] = m.Mean, m.CtlMean
	}
	return Finding{Text: "Against the random-basis control of the same width (ReLU features of as many random projections of the pixels, different seeds; tau-b within, range over pairs): " +
		strings.Join(parts, "; ") + ".", Numbers: nums, Link: "q2-controls"}, true
}

// inkThreshold is the change in within-family tau-b that inkFinding calls small.
const inkThreshold = 0.05

// inkFinding judges ink (‖x‖² of the image) by how much agreement changes when it is taken out: for
// each family, mean tau-b minus mean Kendall partial tau given ink (the mean tau-b within ten ink bins is
// reported beside it). Every change below inkThreshold in magnitude: "ink does not explain the
// agreement"; else the families whose agreement falls by inkThreshold or more "owe part of their
// agreement to ink", and those whose agreement rises by as much agree more once ink is taken out (their
// leverage and ink pull in opposite directions). The correlation of each basis's leverage with ink is
// reported beside it. It is stated when a family has pairs.
func inkFinding(q *q2.Result) (Finding, bool) {
	var parts, lower, higher []string
	nums := map[string]float64{}
	maxChange := 0.0
	for _, f := range q.Families() {
		tau, partial, binned, ok := q.InkChange(f)
		if !ok {
			continue
		}
		change := tau - partial
		parts = append(parts, fmt.Sprintf("%s %.3f → %.3f partial, %.3f within ink bins", f, tau, partial, binned))
		nums["tau_"+f], nums["partial_"+f], nums["binned_"+f] = tau, partial, binned
		maxChange = math.Max(maxChange, math.Abs(change))
		switch {
		case change >= inkThreshold:
			lower = append(lower, fmt.Sprintf("%s (by %.3f)", f, change))
		case change <= -inkThreshold:
			higher = append(higher, fmt.Sprintf("%s (by %.3f)", f, -change))
		}
	}
	if len(parts) == 0 {
		return Finding{}, false
	}
	nums["max_change"] = maxChange
	var inkTau []string
	for _, b := range q.Bases {
		inkTau = append(inkTau, fmt.Sprintf("%s %.2f", b, q.InkTau[b]))
	}
	verdict := fmt.Sprintf("Ink (‖x‖² of the image) does not explain the agreement: taking it out changes within-family tau-b by at most %.3f (< %.2f)", maxChange, inkThreshold)
	var vs []string
	if len(lower) > 0 {
		vs = append(vs, "part of the agreement is ink (‖x‖² of the image): taking it out lowers within-family tau-b for "+strings.Join(lower, ", "))
	}
	if len(higher) > 0 {
		vs = append(vs, "taking ink out raises within-family tau-b for "+strings.Join(higher, ", ")+": leverage and ink pull apart there")
	}
	if len(vs) > 0 {
		verdict = strings.ToUpper(vs[0][:1]) + vs[0][1:]
		if len(vs) > 1 {
			verdict += "; " + vs[1]
		}
	}
	return Finding{Text: fmt.Sprintf("%s — %s. Tau-b between leverage and ink: %s.", verdict, strings.Join(parts, "; "), strings.Join(inkTau, ", ")),
		Numbers: nums, Link: "q2-controls"}, true
}

// ridgeFinding states how much of each top-k set the rank cut-off decides, over the whole λ grid of the
// ridge control: for each λ (relative to the mean eigenvalue of XᵀX), the range over bases of the share
// of the top-k that ridge leverage keeps. "Decides little" when every basis keeps ≥ 90% at every λ,
// else "decides part of the top-k at the larger λ" naming the λ where a basis keeps less. It is stated
// when the ridge control ran.
func ridgeFinding(q *q2.Result) (Finding, bool) {
	if len(q.Ridge) == 0 {
		return Finding{}, false
	}
	var lambdas []float64
	for _, rc := range q.Ridge {
		if !slices.Contains(lambdas, rc.LambdaRel) {
			lambdas = append(lambdas, rc.LambdaRel)
		}
	}
	slices.Sort(lambdas)
	nums := map[string]float64{}
	var parts, low []string
	for _, l := range lambdas {
		lo, hi := math.Inf(1), math.Inf(-1)
		var worst string
		for _, rc := range q.Ridge {
			if rc.LambdaRel != l {
				continue
			}
			if rc.TopKShared < lo {
				lo, worst = rc.TopKShared, rc.Basis
			}
			hi = math.Max(hi, rc.TopKShared)
		}
		parts = append(parts, fmt.Sprintf("λ = %.0e: %.0f–%.0f%% (lowest %s)", l, 100*lo, 100*hi, worst))
		nums[fmt.Sprintf("min_shared_%g", l)], nums[fmt.Sprintf("max_shared_%g", l)] = lo, hi
		if lo < 0.9 {
			low = append(low, fmt.Sprintf("%.0e", l))
		}
	}
	k := q.Ridge[0].K
	verdict := fmt.Sprintf("decides little of the top-%d", k)
	if len(low) > 0 {
		verdict = fmt.Sprintf("decides part of the top-%d (below 90%% kept at λ = %s)", k, strings.Join(low, ", "))
	}
	return Finding{Text: fmt.Sprintf("The rank cut-off %s: share of the top-%d kept by ridge leverage, λ relative to the mean eigenvalue of XᵀX, range over bases: %s.",
		verdict, k, strings.Join(parts, "; ")), Numbers: nums, Link: "q2-controls"}, true
}

// tiesFinding states how many rows the tie rule touches: leverage scores equal within
// rankstat.DefaultTieTolerance are ties in every ranking statistic. It is stated when some basis has
// tied rows, with the count per basis.
func tiesFinding(q *q2.Result) (Finding, bool) {
	var parts []string
	nums := map[string]float64{"tolerance": rankstat.DefaultTieTolerance}
	for _, b := range q.Bases {
		if t := q.Ties[b]; t.Rows > 0 {
			parts = append(parts, fmt.Sprintf("%s %d rows in %d %s", b, t.Rows, t.Groups, map[bool]string{true: "group", false: "groups"}[t.Groups == 1]))
			nums["tied_rows_"+b] = float64(t.Rows)
		}
	}
	if len(parts) == 0 {
		return Finding{}, false
	}
	return Finding{Text: fmt.Sprintf("Leverage scores equal within %.0e are ties in every ranking statistic (their order is rounding noise, which moved weighted tau most): %s.",
		rankstat.DefaultTieTolerance, strings.Join(parts, ", ")), Numbers: nums, Link: "q2"}, true
}
