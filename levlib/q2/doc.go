// Package q2 answers Question 2: are leverage rankings the same across inits and bases? ComparePair
// compares two rankings (Kendall tau-b, swap distance, Spearman, weighted tau, top-k overlaps; scores
// equal within a tolerance are ties); Run compares every pair of a set of bases and reads them against
// yardsticks: the permutation null, agreement within a family against agreement between families (a
// permutation test over family labels), random ReLU features of the same width, ink, ties and ridge
// leverage; it also finds the rows every member of a family puts in its top-k. Tables (GroupTable,
// WithinBetweenTable, MatchedTable, ControlsTable, TauMatrix) and figures (Heatmap, OverlapFigure,
// ConsensusGallery) show it; Write saves pairs.csv and summary.json.
//
//	p, err := q2.ComparePair("A1", "A2", a1.Scores, a2.Scores, []int{100, 1000})
//	res, err := q2.Run(ctx, ws, bases, q2.Options{})
package q2
