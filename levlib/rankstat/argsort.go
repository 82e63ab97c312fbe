package rankstat

import "slices"

// argsort returns the indices of x sorted by x — decreasing when desc — with ties in increasing index:
// the order a stable sort gives. It sorts (value, index) pairs with pdqsort rather than indices
// through a closure with a stable merge sort: the same order, about 5× faster on 70,000 scores (the
// index makes every pair distinct, so the unstable sort is stable). x must hold no NaN.
func argsort(x []float64, desc bool) []int {
	type vi struct {
		v float64
		i int
	}
	p := make([]vi, len(x))
	for i, v := range x {
		p[i] = vi{v, i}
	}
	slices.SortFunc(p, func(a, b vi) int {
		switch {
		case a.v < b.v:
			if desc {
				return 1
			}
			return -1
		case a.v > b.v:
			if desc {
				return -1
			}
			return 1
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	})
	idx := make([]int, len(x))
	for k, e := range p {
		idx[k] = e.i
	}
	return idx
}

// argsort2 returns the indices of (x, y) sorted increasing by x, then y, then index (a stable
// lexicographic sort, numpy's lexsort((y, x))). No NaN.
func argsort2(x, y []float64) []int {
	type vvi struct {
		x, y float64
		i    int
	}
	p := make([]vvi, len(x))
	for i := range x {
		p[i] = vvi{x[i], y[i], i}
	}
	slices.SortFunc(p, func(a, b vvi) int {
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		case a.y < b.y:
			return -1
		case a.y > b.y:
			return 1
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	})
	idx := make([]int, len(x))
	for k, e := range p {
		idx[k] = e.i
	}
	return idx
}
