package levlib

import (
	"slices"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/q1"
)

// TestPlans checks every preset's plan: each grid's bases name bases of the plan, every network family
// has at least 3 inits outside tiny (a within-family spread), and the random-basis controls match the
// widths of RAW (784) and of the networks (200).
func TestPlans(t *testing.T) {
	for _, preset := range []Preset{PresetTiny, PresetQuick, PresetFull} {
		p, err := Plan(StudyOptions{Preset: preset})
		if err != nil {
			t.Fatal(err)
		}
		labels, families := map[string]bool{}, map[string]int{}
		for _, spec := range p.Bases {
			l, f := basis.Label(spec)
			labels[l], families[f] = true, families[f]+1
		}
		for _, g := range p.Q1.Grids {
			for _, name := range g.Bases {
				if !labels[name] && families[name] == 0 {
					t.Errorf("preset %s: the %s grid names %q, not a basis of the plan", preset, g.Classifier, name)
				}
			}
		}
		if p.Q1.Seeds < 2 {
			t.Errorf("preset %s: %d seeds", preset, p.Q1.Seeds)
		}
		for _, f := range []string{"relu", "relu200"} {
			if families[f] < 2 {
				t.Errorf("preset %s: %d bases of the %s control", preset, families[f], f)
			}
		}
		if preset == PresetTiny {
			continue
		}
		for _, f := range []string{"A", "B", "C", "relu", "relu200"} {
			if families[f] < 3 {
				t.Errorf("preset %s: family %s has %d members, want ≥ 3", preset, f, families[f])
			}
		}
		if p.Q1.Seeds < 5 || !slices.ContainsFunc(p.Q1.Grids, func(g q1.Grid) bool { return len(g.Strategies) == 0 }) {
			t.Errorf("preset %s: %d seeds, or no grid with every strategy", preset, p.Q1.Seeds)
		}
	}
}
