package rankstat

import (
	"fmt"
	"math"
	"slices"
)

// DefaultTieTolerance is the absolute tolerance for TieWithin on leverage scores: 1e-9.
//
// Leverage lies in [0, 1], so the tolerance is absolute. Rows whose exact leverage is equal (above
// all ℓ = 1: a row that alone spans a direction) come out of the exact engine (leverage.Scores)
// apart by up to twice its error, and their order is then noise that moves weighted tau, which
// weighs the top ranks most. That error, measured against float64 SVDs (levlib's
// TestMNISTRawLeverage and TestLeverageMatchesSVD, tabled in the README): 1.0e-14 on MNIST RAW,
// ≤ 2.9e-12 up to condition number 1e6, 4.7e-10 at 1e8 — so equal scores differ by ≤ 9.4e-10, under
// the tolerance. Meaningfully different scores lie much further apart: on the exact scores of
// MNIST RAW and of the default ReLU features (70,000 rows each; testdata/tiegaps) the median gap
// between neighbouring sorted scores is 1.3e-7 and 1.5e-7. Measured there, this tolerance ties
//
//	RAW:  812 rows in 395 groups (1.2%): the 18 rows with ℓ ≈ 1 (spread 6.9e-15; 13 of them exactly
//	      1) and pairs in the bulk ≤ 1.8e-9 apart; a tolerance of 1e-12 ties only the 18, 1e-8 ties
//	      11% of rows, 1e-7 62% (chains of up to 20).
//	ReLU: 723 rows in 361 groups (1.0%, of at most 3 rows); no row has ℓ > 0.06.
//
// Weighted tau between the two goes from 0.719130 to 0.730501, all of it from the 18 rows at ℓ ≈ 1
// (a tolerance of 1e-12 gives the same six digits); Kendall's tau-b moves by 1.2e-7.
//
// Not covered: the engine's worst measured cases, columns scaled over 1e6 at condition number 1e8
// (1.5e-9) and condition number 1e9 (5.1e-9), need about 1e-8 — pass it explicitly for such bases,
// and report TieInfo in either case.
const DefaultTieTolerance = 1e-9

// TieInfo reports what TieWithin tied.
type TieInfo struct {
	Tolerance float64 `json:"tolerance"`
	Groups    int     `json:"groups"`   // tie groups of two rows or more
	Rows      int     `json:"rows"`     // rows in those groups
	Largest   int     `json:"largest"`  // rows in the largest group (0 when there is none)
	MaxSpan   float64 `json:"max_span"` // largest max − min of a group: exceeds Tolerance in a chain
}

// TieWithin returns a copy of scores in which values equal within tol are made exactly equal, so that
// rank statistics treat them as ties instead of ordering them by rounding. The rule is single linkage
// on the sorted values: sort, and start a new group wherever the gap to the previous value exceeds
// tol (values equal, ±Inf included, always share a group); every member of a group gets the group's
// maximum, so rows at ℓ ≈ 1 stay ≈ 1. A group can chain: 0, 0.6·tol, 1.2·tol form one group of span
// 1.2·tol (TieInfo.MaxSpan reports the widest).
//
// The map is non-decreasing, and values in different groups keep their order and stay more than tol
// apart, so a statistic that is invariant under ties is unchanged by TieWithin. With tol = 0 only
// exact duplicates are grouped, and the result equals scores. scores is not modified.
//
// A NaN score is an error wrapping ErrNaN (naming its position), as is a negative, NaN or infinite
// tol. See DefaultTieTolerance for leverage scores.
func TieWithin(scores []float64, tol float64) ([]float64, TieInfo, error) {
	if tol < 0 || math.IsNaN(tol) || math.IsInf(tol, 0) {
		return nil, TieInfo{}, fmt.Errorf("tie tolerance %v, want a finite value ≥ 0", tol)
	}
	for i, v := range scores {
		if math.IsNaN(v) {
			return nil, TieInfo{}, fmt.Errorf("%w: scores[%d]", ErrNaN, i)
		}
	}
	n := len(scores)
	idx := argsort(scores, false)
	tied := slices.Clone(scores)
	info := TieInfo{Tolerance: tol}
	for s := 0; s < n; {
		e := s + 1
		for e < n {
			prev, v := scores[idx[e-1]], scores[idx[e]]
			if v != prev && !(v-prev <= tol) {
				break
			}
			e++
		}
		if e-s >= 2 {
			top := scores[idx[e-1]]
			for _, i := range idx[s:e] {
				tied[i] = top
			}
			info.Groups++
			info.Rows += e - s
			info.Largest = max(info.Largest, e-s)
			if span := top - scores[idx[s]]; span > info.MaxSpan { // NaN (Inf − Inf) is never larger
				info.MaxSpan = span
			}
		}
		s = e
	}
	return tied, info, nil
}

// Boundary describes the scores tied with the k-th selected row of a top-k (or bottom-k) selection.
// TopK and BottomK break such ties by the smaller index, which is deterministic but arbitrary: when
// Outside > 0, rows with the same score as selected ones were left out by their index alone. Apply
// TieWithin first, so that scores equal up to rounding count as tied.
type Boundary struct {
	K       int     `json:"k"`
	Value   float64 `json:"value"`   // the k-th selected score
	Inside  int     `json:"inside"`  // rows with score Value among the k selected (≥ 1)
	Outside int     `json:"outside"` // rows with score Value not selected
}

// Arbitrary reports whether the selection depended on the tie-break: some row tied with the k-th was
// left out.
func (b Boundary) Arbitrary() bool { return b.Outside > 0 }

// BoundaryTies returns the ties at the boundary of TopK(scores, k): with v the k-th largest score,
// Inside = k − #{s > v} and Outside = #{s = v} − Inside. k must be in 1..len(scores); a NaN score is an
// error wrapping ErrNaN.
func BoundaryTies(scores []float64, k int) (Boundary, error) {
	return boundary(scores, k, TopK)
}

// BottomBoundaryTies is BoundaryTies for BottomK(scores, k): v is the k-th smallest score and
// Inside = k − #{s < v}.
func BottomBoundaryTies(scores []float64, k int) (Boundary, error) {
	return boundary(scores, k, BottomK)
}

func boundary(scores []float64, k int, sel func([]float64, int) []int) (Boundary, error) {
	n := len(scores)
	if k < 1 || k > n {
		return Boundary{}, fmt.Errorf("k = %d outside 1..%d", k, n)
	}
	for i, v := range scores {
		if math.IsNaN(v) {
			return Boundary{}, fmt.Errorf("%w: scores[%d]", ErrNaN, i)
		}
	}
	picked := sel(scores, k)
	b := Boundary{K: k, Value: scores[picked[k-1]]}
	for _, i := range picked {
		if scores[i] == b.Value {
			b.Inside++
		}
	}
	for _, v := range scores {
		if v == b.Value {
			b.Outside++
		}
	}
	b.Outside -= b.Inside
	return b, nil
}
