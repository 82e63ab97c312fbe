package xslices

import (
	"cmp"
	"math"
)

func Sum(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	if math.IsNaN(s) {
		return 0
	}
	return s
}

// seq returns 0, 1, …, n−1.
func Iota(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Argmax returns the index of the largest value of v (the first on ties; 0 for an empty v): the
// predicted class of a row of scores or logits.
func Argmax[T cmp.Ordered](v []T) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
