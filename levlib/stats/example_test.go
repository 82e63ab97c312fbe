package stats_test

import (
	"fmt"

	"github.com/levstudy/levstudy/levlib/stats"
)

// Values checked against scipy 1.10: ttest_1samp(top, 0).confidence_interval() = [0.87902, 0.88346],
// t.interval(0.95, welch_df, loc=−0.02906, scale=se) = [−0.031385, −0.026735].
func ExampleWelchDiff() {
	top := []float64{0.8812, 0.8790, 0.8835, 0.8801, 0.8824}    // test accuracy over 5 seeds
	random := []float64{0.9101, 0.9087, 0.9120, 0.9095, 0.9112} // the same k, random rows
	d, err := stats.WelchDiff(top, random)
	if err != nil {
		panic(err)
	}
	verdict := map[int]string{-1: "below random", 0: "not distinguishable from random", 1: "above random"}[d.Sign()]
	fmt.Printf("top − random = %.4f [%.4f, %.4f]: %s\n", d.Estimate, d.Lo, d.Hi, verdict)
	s, _ := stats.Describe(top)
	fmt.Println("top:", s)
	// Output:
	// top − random = -0.0291 [-0.0314, -0.0267]: below random
	// top: 0.8812 [0.879, 0.8835] (n=5)
}

func ExampleWithinBetween() {
	// Kendall's tau-b between the leverage rankings of six bases in three families. With two members
	// among six items a family has C(6, 2) = 15 relabellings, so no p-value can go below 1/15 (MinP):
	// A's members agree far more with each other, but six bases cannot show it at 5%.
	// (Values checked with scipy 1.10 and itertools by enumerating the 15 pairs.)
	labels := []string{"A1", "A2", "B1", "B2", "C1", "C2"}
	families := []string{"A", "A", "B", "B", "C", "C"}
	tau := [][]float64{
		{1, 0.90, 0.30, 0.32, 0.28, 0.31},
		{0.90, 1, 0.29, 0.33, 0.30, 0.27},
		{0.30, 0.29, 1, 0.35, 0.31, 0.30},
		{0.32, 0.33, 0.35, 1, 0.29, 0.28},
		{0.28, 0.30, 0.31, 0.29, 1, 0.30},
		{0.31, 0.27, 0.30, 0.28, 0.30, 1},
	}
	res, err := stats.WithinBetween(labels, families, tau, stats.WithinBetweenOptions{})
	if err != nil {
		panic(err)
	}
	for _, f := range res.Families {
		fmt.Printf("%s: within %.3f, between %.3f, p = %.3f (%s, %d relabellings)\n",
			f.Family, f.WithinMean, f.BetweenMean, f.P, f.Null, f.Relabellings)
	}
	// Output:
	// A: within 0.900, between 0.300, p = 0.067 (exact, 15 relabellings)
	// B: within 0.350, between 0.302, p = 0.133 (exact, 15 relabellings)
	// C: within 0.300, between 0.293, p = 0.267 (exact, 15 relabellings)
}
