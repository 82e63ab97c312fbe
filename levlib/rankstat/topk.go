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

// TopKTied returns the k largest scores' indices after TieWithin(scores, DefaultTieTolerance): the
// top-k as every ranking of the study takes it, scores within the tolerance being ties that go to the
// smaller index. A NaN score is an error.
func TopKTied(scores []float64, k int) ([]int, error) {
	tied, _, err := TieWithin(scores, DefaultTieTolerance)
	if err != nil {
		return nil, err
	}
	return TopK(tied, k), nil
}

// BottomKTied is BottomK after TieWithin(scores, DefaultTieTolerance), as TopKTied.
func BottomKTied(scores []float64, k int) ([]int, error) {
	tied, _, err := TieWithin(scores, DefaultTieTolerance)
	if err != nil {
		return nil, err
	}
	return BottomK(tied, k), nil
}
