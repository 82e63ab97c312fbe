package q1

import (
	"slices"
	"testing"
)

// TestWithDefaultsDoesNotWriteThrough checks that filling in defaults leaves the caller's options (a
// study's plan) as they were, and that the defaults handed out are copies.
func TestWithDefaultsDoesNotWriteThrough(t *testing.T) {
	plan := Options{Grids: []Grid{{Classifier: ClassifierLinear}, {Classifier: ClassifierCNN, K: []int{100}}}}
	before := slices.Clone(plan.Grids)
	got := plan.withDefaults()
	if len(got.Grids[0].Strategies) != len(strategies) || !slices.Equal(got.Grids[0].K, defaultK) || !slices.Equal(got.Grids[1].K, []int{100}) {
		t.Fatalf("defaults not filled in: %+v", got.Grids)
	}
	for i := range plan.Grids {
		if plan.Grids[i].Strategies != nil || !slices.Equal(plan.Grids[i].K, before[i].K) {
			t.Errorf("the caller's grid %d was rewritten: %+v", i, plan.Grids[i])
		}
	}
	got.Grids[0].Strategies[0] = "changed"
	got.Grids[0].K[0] = -1
	if strategies[0] != StrategyTop || defaultK[0] != 1000 {
		t.Errorf("the package defaults were changed through a returned slice: %v %v", strategies, defaultK)
	}
	s := Strategies()
	s[0] = "changed"
	if Strategies()[0] != StrategyTop {
		t.Error("Strategies() returns the package's own slice")
	}
}
