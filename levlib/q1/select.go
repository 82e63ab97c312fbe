package q1

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/levstudy/levstudy/levlib/rankstat"
)

// Strategy is a way to pick k training rows from leverage scores.
type Strategy string

// The selection strategies of Question 1.
const (
	// StrategyTop takes the k highest scores (the study).
	StrategyTop Strategy = "top"
	// StrategyBottom takes the k lowest.
	StrategyBottom Strategy = "bottom"
	// StrategyRandom takes k rows uniformly at random (seeded): the baseline.
	StrategyRandom Strategy = "random"
	// StrategySampled samples k rows without replacement with probability proportional to leverage
	// (seeded; Efraimidis & Spirakis, "Weighted random sampling with a reservoir", IPL 97, 2006).
	StrategySampled Strategy = "sampled"
	// StrategyBalanced takes the top k/10 of each class (the remainder of k/10 goes to the lowest digits).
	StrategyBalanced Strategy = "balanced"
)

// strategies lists all strategies in a fixed order.
var strategies = []Strategy{StrategyTop, StrategyBottom, StrategyRandom, StrategySampled, StrategyBalanced}

// ParseStrategy parses a strategy name.
func ParseStrategy(s string) (Strategy, error) {
	for _, st := range strategies {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown strategy %q (want top, bottom, random, sampled or balanced)", s)
}

// Seeded reports whether the strategy uses its seed.
func (s Strategy) Seeded() bool { return s == StrategyRandom || s == StrategySampled }

// Select returns k distinct indices into scores (the candidate rows, e.g. the training rows), chosen
// by strategy; labels are the candidates' digits (for StrategyBalanced). Top, bottom and balanced
// rank the scores as every statistic of the study does: scores within rankstat.DefaultTieTolerance
// are ties (rankstat.TieWithin), and ties go to the smaller index. Seeded strategies draw from rand.New(rand.NewPCG(seed, seed)). It is an error if k is
// outside 1..len(scores), a score is NaN or negative, or a class has too few rows for balanced.
func Select(scores []float64, labels []uint8, strategy Strategy, k int, seed uint64) ([]int, error) {
	n := len(scores)
	if k < 1 || k > n {
		return nil, fmt.Errorf("select %s: k = %d outside 1..%d", strategy, k, n)
	}
	for i, s := range scores {
		if !(s >= 0) {
			return nil, fmt.Errorf("select %s: score of row %d is %v", strategy, i, s)
		}
	}
	if !strategy.Seeded() {
		tied, _, err := rankstat.TieWithin(scores, rankstat.DefaultTieTolerance)
		if err != nil {
			return nil, fmt.Errorf("select %s: %w", strategy, err)
		}
		scores = tied
	}
	switch strategy {
	case StrategyTop:
		return rankstat.TopK(scores, k), nil
	case StrategyBottom:
		return rankstat.BottomK(scores, k), nil
	case StrategyRandom:
		rng := rand.New(rand.NewPCG(seed, seed))
		return rng.Perm(n)[:k], nil
	case StrategySampled:
		// Key u^(1/w) per row; the k largest keys are a weighted sample without replacement. In logs:
		// log(u)/w, with w = 0 giving −Inf (drawn last, by index).
		rng := rand.New(rand.NewPCG(seed, seed))
		keys := make([]float64, n)
		for i, w := range scores {
			u := rng.Float64()
			if w > 0 {
				keys[i] = math.Log(u) / w
			} else {
				keys[i] = math.Inf(-1)
			}
		}
		return rankstat.TopK(keys, k), nil
	case StrategyBalanced:
		if len(labels) != n {
			return nil, fmt.Errorf("select balanced: %d labels for %d scores", len(labels), n)
		}
		byClass := make([][]int, 10)
		for i, l := range labels {
			if l > 9 {
				return nil, fmt.Errorf("select balanced: label %d of row %d is not a digit", l, i)
			}
			byClass[l] = append(byClass[l], i)
		}
		var out []int
		for c := 0; c < 10; c++ {
			want := k / 10
			if c < k%10 {
				want++
			}
			rows := byClass[c]
			if want > len(rows) {
				return nil, fmt.Errorf("select balanced: k = %d needs %d rows of digit %d, there are %d", k, want, c, len(rows))
			}
			slices.SortStableFunc(rows, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
			out = append(out, rows[:want]...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown strategy %q", strategy)
}

// Strategies returns every strategy in a fixed order (a copy: the caller may change it).
func Strategies() []Strategy {
	return slices.Clone(strategies)
}
