package leverage

import (
	"context"
	"fmt"

	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/progress"
	"gonum.org/v1/gonum/lapack/gonum"
)

// qrScores computes ℓ_i = ‖Q(i,:)‖² from the thin Householder QR of x (gonum LAPACK Dgeqrf, then
// Dorgqr to form only the N×min(N,D) Q in place), as torch.linalg.qr(X, mode="reduced") does. The
// whole matrix is read into memory.
func qrScores(ctx context.Context, x matrixio.RowSource, opts Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, d := x.Dims()
	k := min(n, d)
	a := make([]float64, n*d)
	if err := x.ReadRows(a, 0, n); err != nil {
		return nil, err
	}
	for i, v := range a {
		if v-v != 0 {
			return nil, fmt.Errorf("row %d, column %d is %v", i/d, i%d, v)
		}
	}
	var impl gonum.Implementation
	tau := make([]float64, k)
	work := []float64{0}
	impl.Dgeqrf(n, d, a, d, tau, work, -1)
	lwork := int(work[0])
	impl.Dorgqr(n, k, k, a, d, tau, work, -1)
	lwork = max(lwork, int(work[0]), 1)
	work = make([]float64, lwork)
	report := func(done int) {
		if opts.Progress != nil {
			opts.Progress(progress.Report{Stage: "Householder QR", Done: done, Total: 2})
		}
	}
	impl.Dgeqrf(n, d, a, d, tau, work, lwork)
	report(1)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	impl.Dorgqr(n, k, k, a, d, tau, work, lwork)
	report(2)
	res := &Result{Method: QR, Rank: k, Scores: make([]float64, n)}
	for i := 0; i < n; i++ {
		var s float64
		for _, q := range a[i*d : i*d+k] {
			s += q * q
		}
		res.Scores[i] = min(s, 1)
	}
	res.Warnings = append(res.Warnings, fmt.Errorf("method qr treats all %d columns as independent (Σℓ = %d); use exact for rank-deficient bases", k, k))
	return res, nil
}
