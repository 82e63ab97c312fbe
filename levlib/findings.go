package levlib

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
)

// Finding is one sentence of the report's findings, computed from a run's numbers: Numbers holds the
// values it cites (by name) and Link the report section it summarizes.
type Finding struct {
	Text    string             `json:"text"`
	Numbers map[string]float64 `json:"numbers"`
	Link    string             `json:"link"`
}

// Findings states what a run found, in sentences generated from its numbers (never hard-coded): the
// rank-deficient bases, Question 1 (top-k against random per family, at each classifier's k closest to
// 1,000, and over the whole grid), Question 2 (agreement within families against the null and the
// random-feature control) and its controls (ink, the rank cut-off).
func Findings(r *StudyResult) []Finding {
	var out []Finding
	out = append(out, basisFindings(r)...)
	if r.Q1 != nil {
		out = append(out, q1Findings(r.Q1)...)
	}
	if r.Q2 != nil {
		out = append(out, q2Findings(r.Q2)...)
	}
	return out
}

func basisFindings(r *StudyResult) []Finding {
	var deficient, near []string
	rankNums, nearNums := map[string]float64{}, map[string]float64{}
	for _, b := range r.Bases {
		if b.Rank < b.Cols {
			deficient = append(deficient, fmt.Sprintf("%s %d of %d", b.Label, b.Rank, b.Cols))
			rankNums["rank_"+b.Label], rankNums["cols_"+b.Label] = float64(b.Rank), float64(b.Cols)
		}
		if b.NearOne > 0 {
			near = append(near, fmt.Sprintf("%s %d", b.Label, b.NearOne))
			nearNums["near_one_"+b.Label] = float64(b.NearOne)
		}
	}
	var out []Finding
	if len(deficient) > 0 {
		out = append(out, Finding{Text: fmt.Sprintf("Rank-deficient bases (rank of columns): %s. Exact, rank-aware leverage sums to the rank; the seed's plain QR counts every column and gives the rows of dependent directions leverage ≈ 1.",
			strings.Join(deficient, ", ")), Numbers: rankNums, Link: "bases"})
	}
	if len(near) > 0 {
		out = append(out, Finding{Text: fmt.Sprintf("Rows with leverage above 0.99 (each alone spans a direction; a top-k of that size is decided by ties near 1): %s.",
			strings.Join(near, ", ")), Numbers: nearNums, Link: "bases"})
	}
	return out
}

// q1Findings compares top-k with the random baseline per family and classifier.
func q1Findings(q *q1.Result) []Finding {
	fam := q.ByFamily()
	cls, families, _ := q1.Axes(fam)
	var out []Finding
	for _, cl := range cls {
		var ks []int
		for _, s := range fam {
			if s.Classifier == cl && s.Strategy == q1.StrategyTop && !slices.Contains(ks, s.K) {
				ks = append(ks, s.K)
			}
		}
		if len(ks) == 0 {
			continue
		}
		slices.Sort(ks)
		ref := ks[0]
		for _, k := range ks {
			if math.Abs(math.Log(float64(k)/1000)) < math.Abs(math.Log(float64(ref)/1000)) {
				ref = k
			}
		}
		var worse, better, within, gap []string
		gapNums := map[string]float64{"k": float64(ref)}
		famNums := map[string]float64{"k": float64(ref)}
		for _, f := range families {
			below, above, n := 0, 0, 0
			for _, k := range ks {
				top, ok1 := q1.Find(fam, "", f, q1.StrategyTop, k, cl)
				rnd, ok2 := q1.Find(fam, "", q1.RandomFamily(fam, f, cl), q1.StrategyRandom, k, cl)
				if !ok1 || !ok2 {
					continue
				}
				n++
				switch {
				case top.Test.Mean < rnd.Test.Min:
					below++
				case top.Test.Mean > rnd.Test.Max:
					above++
				}
			}
			top, ok1 := q1.Find(fam, "", f, q1.StrategyTop, ref, cl)
			rnd, ok2 := q1.Find(fam, "", q1.RandomFamily(fam, f, cl), q1.StrategyRandom, ref, cl)
			if !ok1 || !ok2 || n == 0 {
				continue
			}
			if rnd.Family != q1.AnyBasis {
				famNums[f+"_random_test"], famNums[f+"_random_train"] = rnd.Test.Mean, rnd.Train.Mean
			}
			detail := fmt.Sprintf("%s (%.3f vs %.3f test at k = %d", f, top.Test.Mean, rnd.Test.Mean, ref)
			if top.Inits > 1 {
				detail += fmt.Sprintf(", range over %d inits %.3f–%.3f", top.Inits, top.Test.Min, top.Test.Max)
			}
			detail += ")"
			famNums[f+"_top_test"], famNums[f+"_top_train"] = top.Test.Mean, top.Train.Mean
			switch {
			case below == n:
				worse = append(worse, detail)
			case above == n:
				better = append(better, detail)
			default:
				within = append(within, detail)
			}
			if top.Selected.Mean-top.Train.Mean > 0.1 {
				gap = append(gap, fmt.Sprintf("%s %.3f vs %.3f", f, top.Selected.Mean, top.Train.Mean))
				gapNums["selected_"+f], gapNums["train_"+f] = top.Selected.Mean, top.Train.Mean
			}

		}
		if len(gap) > 0 {
			out = append(out, Finding{Text: fmt.Sprintf("%s classifier trained on the top-%d: accuracy on the selected rows vs on all training rows: %s. The highest-leverage rows are unlike the rest.",
				cl, ref, strings.Join(gap, ", ")), Numbers: gapNums, Link: "q1"})
		}
		nums := famNums
		if rndAt, ok := q1.Find(fam, "", q1.AnyBasis, q1.StrategyRandom, ref, cl); ok {
			nums["random_test"], nums["random_train"] = rndAt.Test.Mean, rndAt.Train.Mean
		}
		if len(worse) > 0 {
			out = append(out, Finding{Text: fmt.Sprintf("%s classifier: top-k leverage selection trains worse than random at every k of the grid for %s.",
				cl, strings.Join(worse, "; ")), Numbers: nums, Link: "q1"})
		}
		if len(better) > 0 {
			out = append(out, Finding{Text: fmt.Sprintf("%s classifier: top-k leverage selection beats the random band at every k for %s.",
				cl, strings.Join(better, "; ")), Numbers: nums, Link: "q1"})
		}
		if len(within) > 0 {
			out = append(out, Finding{Text: fmt.Sprintf("%s classifier: top-k and random are mixed over the k grid for %s.",
				cl, strings.Join(within, "; ")), Numbers: nums, Link: "q1"})
		}
	}
	return out
}

// q2Findings summarizes agreement within families, against the null, the random-feature control, ink
// and the rank cut-off.
func q2Findings(q *q2.Result) []Finding {
	var out []Finding
	var parts, beyond, within []string
	nums := map[string]float64{"null_sd": q.NullSD, "null_q975": q.NullBand.Hi}
	for _, s := range q.Summaries {
		if s.Statistic != "kendall_tau_b" || s.GroupA != s.GroupB {
			continue
		}
		if s.Min > q.NullBand.Hi && s.Mean > 10*q.NullSD {
			beyond = append(beyond, s.GroupA)
		} else {
			within = append(within, s.GroupA)
		}
		if s.Pairs > 1 {
			parts = append(parts, fmt.Sprintf("within %s %.3f (%d pairs, %.3f–%.3f)", s.GroupA, s.Mean, s.Pairs, s.Min, s.Max))
		} else {
			parts = append(parts, fmt.Sprintf("within %s %.3f (1 pair)", s.GroupA, s.Mean))
		}
		nums["tau_within_"+s.GroupA] = s.Mean
	}
	if len(parts) > 0 {
		verdict := fmt.Sprintf("Every pair within %s agrees beyond the null band", strings.Join(beyond, ", "))
		if len(within) > 0 {
			verdict = fmt.Sprintf("Agreement beyond the null band for %s, not for every pair within %s", strings.Join(beyond, ", "), strings.Join(within, ", "))
			if len(beyond) == 0 {
				verdict = fmt.Sprintf("Not every pair within %s agrees beyond the null band", strings.Join(within, ", "))
			}
		}
		out = append(out, Finding{Text: fmt.Sprintf("%s (inits of a network family, seeds of the ReLU features): Kendall tau-b %s; under random permutation tau-b is 0 ± %.4f (SD), %s.",
			verdict, strings.Join(parts, ", "), q.NullSD, q.NullBand.Describe()), Numbers: nums, Link: "q2"})
	}
	relu, hasRelu := q2.GroupStat(q, "relu", "relu", "kendall_tau_b")
	if hasRelu {
		var trained []string
		n := map[string]float64{"tau_within_relu": relu.Mean}
		for _, f := range []string{"A", "B", "C", "orig-A", "orig-B", "orig-C"} {
			if s, ok := q2.GroupStat(q, f, f, "kendall_tau_b"); ok {
				rel := "above"
				if s.Mean < relu.Mean {
					rel = "below"
				}
				trained = append(trained, fmt.Sprintf("%s %.3f (%s)", f, s.Mean, rel))
				n["tau_within_"+f] = s.Mean
			}
		}
		if len(trained) > 0 {
			out = append(out, Finding{Text: fmt.Sprintf("Against the random-basis control (ReLU features with different seeds agree at tau-b %.3f): %s.",
				relu.Mean, strings.Join(trained, ", ")), Numbers: n, Link: "q2-controls"})
		}
	}
	var inkParts []string
	inkNums := map[string]float64{}
	for _, s := range q.Summaries {
		if s.Statistic != "partial_tau_ink" || s.GroupA != s.GroupB {
			continue
		}
		raw, _ := q2.GroupStat(q, s.GroupA, s.GroupB, "kendall_tau_b")
		binned, _ := q2.GroupStat(q, s.GroupA, s.GroupB, "binned_tau_ink")
		inkParts = append(inkParts, fmt.Sprintf("%s %.3f → %.3f partial, %.3f within ink bins", s.GroupA, raw.Mean, s.Mean, binned.Mean))
		inkNums["partial_"+s.GroupA] = s.Mean
	}
	if len(inkParts) > 0 {
		var inkTau []string
		strongest := 0.0
		for _, b := range q.Bases {
			inkTau = append(inkTau, fmt.Sprintf("%s %.2f", b, q.InkTau[b]))
			strongest = math.Max(strongest, math.Abs(q.InkTau[b]))
			inkNums["ink_tau_"+b] = q.InkTau[b]
		}
		verdict := "Ink (‖x‖² of the image) is a shared factor"
		if strongest < 0.1 {
			verdict = "Ink (‖x‖² of the image) hardly shapes the rankings"
		}
		out = append(out, Finding{Text: fmt.Sprintf("%s: tau-b between leverage and ink is %s. With it taken out, within-family agreement becomes %s.",
			verdict, strings.Join(inkTau, ", "), strings.Join(inkParts, "; ")), Numbers: inkNums, Link: "q2-controls"})
	}
	if len(q.Ridge) > 0 {
		worst := q.Ridge[0]
		for _, rc := range q.Ridge {
			if rc.LambdaRel == worst.LambdaRel && rc.TopKShared < worst.TopKShared {
				worst = rc
			}
		}
		var parts []string
		for _, rc := range q.Ridge {
			if rc.LambdaRel == q.Ridge[0].LambdaRel {
				parts = append(parts, fmt.Sprintf("%s %.0f%%", rc.Basis, 100*rc.TopKShared))
			}
		}
		verdict := "decides little of"
		if worst.TopKShared < 0.9 {
			verdict = "decides part of"
		}
		out = append(out, Finding{Text: fmt.Sprintf("The rank cut-off %s the top-%d: with ridge λ = %.0e × the mean eigenvalue, the share of the top-%d kept is %s.",
			verdict, q.Ridge[0].K, q.Ridge[0].LambdaRel, q.Ridge[0].K, strings.Join(parts, ", ")),
			Numbers: map[string]float64{"lambda_rel": q.Ridge[0].LambdaRel, "min_shared": worst.TopKShared}, Link: "q2-controls"})
	}
	return out
}
