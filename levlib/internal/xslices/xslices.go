package xslices

import (
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
