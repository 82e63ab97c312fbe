package xslices

import (
	"math"
	"slices"
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

// Describe returns the mean, sample standard deviation (0 for one value), min and max of v (not empty).
func Describe(v []float64) (mean, sd, lo, hi float64) {
	for _, x := range v {
		mean += x / float64(len(v))
	}
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	if len(v) > 1 {
		sd = math.Sqrt(sd / float64(len(v)-1))
	} else {
		sd = 0
	}
	return mean, sd, slices.Min(v), slices.Max(v)
}
