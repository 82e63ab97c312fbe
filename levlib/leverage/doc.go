// Package leverage computes statistical leverage scores of the rows of any N×D matrix: exactly and
// rank-aware by default, or by the seed notebook's plain thin QR for comparison.
//
//	ℓ_i = ‖U_r(i,:)‖² = (X (XᵀX)⁺ Xᵀ)_ii,   0 ≤ ℓ_i ≤ 1,   Σ_i ℓ_i = rank(X),
//
// with U_r an orthonormal basis of the column space of X; with Options.Ridge = λ the ridge leverage
// x_iᵀ(XᵀX + λI)⁻¹x_i. The entry point is Scores, which reads X in row chunks from a
// matrixio.RowSource (an in-memory matrix, a .npy or CSV file larger than memory), runs the passes over
// X as float64 GoMLX graphs and factorizes only D×D matrices on the host (gonum); its doc comment gives
// the method, its sources and the accuracy measured. A Result carries the scores, the rank with the
// singular values around the cut-off, the rows with ℓ ≈ 1 and warnings (ErrRankDeficient). Summary is
// the JSON record written beside every scores file (NewSummary, WriteSummaryFile).
//
//	res, err := leverage.Scores(ctx, backend, x, leverage.Options{})
//	fmt.Println(res.Rank, res.Sum(), len(res.RowsAbove(0.99)))
package leverage
