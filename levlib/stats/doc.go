// Package stats holds the inferential summaries of levstudy's results: a sample's mean with a
// Student-t 95% interval, the difference of two means with Welch's (or a paired) 95% interval and
// the sign decision that goes with it, and a permutation test of whether the members of a family
// agree more with each other than with the rest.
//
// The main entry points:
//
//   - Describe summarizes a sample (N, mean, SD, min, max, 95% interval of the mean): Summary.
//   - WelchDiff and PairedDiff estimate a difference of means with a 95% interval: Diff. Diff.Sign
//     says whether the interval lies below 0 (−1), contains it (0) or lies above it (+1), the rule
//     for calling a strategy "below random" or "above random".
//   - WithinBetween tests, for each family of items (e.g. bases that share an architecture), whether
//     a pairwise statistic (e.g. Kendall's tau-b between leverage rankings) is larger within the
//     family than between it and the other items, by permuting the family labels: WithinBetweenResult.
//
// A typical Q1 comparison:
//
//	top, _ := stats.Describe(accTop)             // accuracies over seeds
//	d, _ := stats.WelchDiff(accTop, accRandom)   // top − random
//	switch d.Sign() {
//	case -1: // below random: the whole interval is below 0
//	case +1: // above random
//	default: // not distinguishable from random at 95%
//	}
//
// Every result is JSON-friendly: no field is ever NaN or ±Inf (encoding/json cannot write them);
// quantities that are undefined for small samples are flagged instead (Summary.HasCI). Non-finite
// inputs are errors. The package depends only on the standard library and gonum.
package stats
