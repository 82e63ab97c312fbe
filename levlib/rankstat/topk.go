package rankstat

// TopK returns the indices of the k largest scores, largest first; ties go to the smaller index. k is
// clipped to [0, len(scores)]; scores must hold no NaN. Scores equal up to rounding are not ties: make them so with TieWithin,
// and count the rows a tie at the k-th score leaves out with BoundaryTies.
func TopK(scores []float64, k int) []int {
	return argsort(scores, true)[:max(0, min(k, len(scores)))]
}

// BottomK returns the indices of the k smallest scores, smallest first; ties go to the smaller index.
// k is clipped to [0, len(scores)]. See TieWithin and BottomBoundaryTies for ties.
func BottomK(scores []float64, k int) []int {
	return argsort(scores, false)[:max(0, min(k, len(scores)))]
}
