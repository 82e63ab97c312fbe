// Command levdiff compares two leverage CSVs (levstudy leverage's format) row by row and prints the
// largest absolute difference; it exits 1 when that exceeds -tol (default 1e-7).
//
// Usage: go run ./scripts/levdiff [-tol 1e-7] a.csv b.csv
package main

import (
	"flag"
	"fmt"
	"math"
	"os"

	"github.com/levstudy/levstudy/levlib/matrixio"
)

func main() {
	tol := flag.Float64("tol", 1e-7, "largest allowed |a − b|")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: levdiff [-tol 1e-7] a.csv b.csv")
		os.Exit(2)
	}
	a, err := matrixio.ReadLeverageCSV(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	b, err := matrixio.ReadLeverageCSV(flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if len(a.Scores) != len(b.Scores) {
		fmt.Fprintf(os.Stderr, "%d and %d rows\n", len(a.Scores), len(b.Scores))
		os.Exit(1)
	}
	worst, at := 0.0, 0
	for i := range a.Scores {
		if d := math.Abs(a.Scores[i] - b.Scores[i]); d > worst {
			worst, at = d, i
		}
	}
	fmt.Printf("max |Δℓ| = %.3g (row %d)\n", worst, at)
	if worst > *tol {
		os.Exit(1)
	}
}
