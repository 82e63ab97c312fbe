package leverage_test

import (
	"context"
	"fmt"

	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// A 4×3 basis whose last column is zero has rank 2: the exact method gives Σℓ = 2, while the seed's QR
// method counts the zero column (Σℓ = 3), which inflates rows 0, 1 and gives row 2 leverage 1.
func ExampleScores() {
	x := &matrixio.Matrix{Rows: 4, Cols: 3, Data: []float64{
		1, 0, 0,
		0, 1, 0,
		1, 1, 0,
		1, -1, 0,
	}}
	sel, _ := backend.New("go")
	ctx := context.Background()
	exact, _ := leverage.Scores(ctx, sel.Backend, x, leverage.Options{})
	qr, _ := leverage.Scores(ctx, sel.Backend, x, leverage.Options{Method: leverage.QR})
	fmt.Printf("exact: rank %d, ℓ = %.4f\n", exact.Rank, exact.Scores)
	fmt.Printf("qr:    rank %d, ℓ = %.4f\n", qr.Rank, qr.Scores)
	// Output:
	// exact: rank 2, ℓ = [0.3333 0.3333 0.6667 0.6667]
	// qr:    rank 3, ℓ = [0.6667 0.6667 1.0000 0.6667]
}
