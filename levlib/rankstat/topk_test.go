package rankstat_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/levstudy/levstudy/levlib/rankstat"
)

func TestTopBottomK(t *testing.T) {
	s := []float64{0.3, 0.9, 0.3, 0.1, 0.9, 0.5}
	if got := rankstat.TopK(s, 4); !slices.Equal(got, []int{1, 4, 5, 0}) {
		t.Errorf("TopK = %v", got)
	}
	if got := rankstat.BottomK(s, 3); !slices.Equal(got, []int{3, 0, 2}) {
		t.Errorf("BottomK = %v", got)
	}
	if got := rankstat.TopK(s, 100); len(got) != 6 {
		t.Errorf("TopK clipped = %v", got)
	}
}

// TopKTied and BottomKTied treat scores within rankstat.DefaultTieTolerance as ties (the smaller index first),
// where TopK and BottomK order them by their rounding.
func TestTopKTied(t *testing.T) {
	eps := rankstat.DefaultTieTolerance / 10
	s := []float64{0.5, 0.5 + eps, 0.1, 0.1 - eps, 0.3}
	if got := rankstat.TopK(s, 1); !slices.Equal(got, []int{1}) {
		t.Fatalf("TopK = %v, want [1] (rounding orders the near-tie)", got)
	}
	if got, err := rankstat.TopKTied(s, 2); err != nil || !slices.Equal(got, []int{0, 1}) {
		t.Errorf("TopKTied = %v, %v; want [0 1]", got, err)
	}
	if got, err := rankstat.BottomKTied(s, 1); err != nil || !slices.Equal(got, []int{2}) {
		t.Errorf("BottomKTied = %v, %v; want [2] (row 3 is tied with row 2, which comes first)", got, err)
	}
	if got := rankstat.BottomK(s, 1); !slices.Equal(got, []int{3}) {
		t.Errorf("BottomK = %v, want [3]", got)
	}
	if _, err := rankstat.TopKTied([]float64{1, math.NaN()}, 1); !errors.Is(err, rankstat.ErrNaN) {
		t.Errorf("TopKTied with NaN: %v, want rankstat.ErrNaN", err)
	}
}
