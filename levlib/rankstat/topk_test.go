package rankstat_test

import (
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
