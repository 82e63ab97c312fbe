package rankstat

import (
	"cmp"
	"slices"
)

// TopK returns the indices of the k largest scores, largest first; ties go to the smaller index. k is
// clipped to [0, len(scores)]. Scores equal up to rounding are not ties: make them so with TieWithin,
// and count the rows a tie at the k-th score leaves out with BoundaryTies.
func TopK(scores []float64, k int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	return idx[:max(0, min(k, len(idx)))]
}

// BottomK returns the indices of the k smallest scores, smallest first; ties go to the smaller index.
// k is clipped to [0, len(scores)]. See TieWithin and BottomBoundaryTies for ties.
func BottomK(scores []float64, k int) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	return idx[:max(0, min(k, len(idx)))]
}
