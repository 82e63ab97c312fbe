package testutil

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/mnist"
)

// Q1BenchSelections returns m random selections of k training rows (seeds 1..m), drawn as Question
// 1's random strategy draws them (q1.Select: the first k of a seeded permutation).
func Q1BenchSelections(b *testing.B, ds *mnist.Dataset, m, k int) [][]int {
	b.Helper()
	if k > ds.NumTrain {
		b.Fatalf("k = %d > %d training rows", k, ds.NumTrain)
	}
	sels := make([][]int, m)
	for i := range sels {
		seed := uint64(i + 1)
		sels[i] = rand.New(rand.NewPCG(seed, seed)).Perm(ds.NumTrain)[:k]
	}
	return sels
}

// BenchGroups returns the group sizes M of BenchmarkQ1Linear and BenchmarkQ1CNN: 1 and 5, or the
// comma-separated list in $LEVSTUDY_BENCH_GROUPS (e.g. 1,5,10,35: about half an hour for the CNN on 2
// cores).
func BenchGroups(b *testing.B) []int {
	env := os.Getenv("LEVSTUDY_BENCH_GROUPS")
	if env == "" {
		return []int{1, 5}
	}
	var ms []int
	for _, f := range strings.Split(env, ",") {
		m, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || m < 1 {
			b.Fatalf("LEVSTUDY_BENCH_GROUPS=%q: want positive integers separated by commas", env)
		}
		ms = append(ms, m)
	}
	return ms
}

// Q1EvalRows returns Question 1's evaluation rows in the quick preset: 10,000 training rows drawn with
// seed 1 and the 10,000 test rows.
func Q1EvalRows(ds *mnist.Dataset) (train, test []int) {
	train = rand.New(rand.NewPCG(1, 1)).Perm(ds.NumTrain)[:10000]
	for i := ds.NumTrain; i < ds.N(); i++ {
		test = append(test, i)
	}
	return train, test
}
