package q1_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
	"gonum.org/v1/gonum/mat"
)

// Top, bottom and balanced treat scores within rankstat.DefaultTieTolerance as ties (the smaller
// index first), as Run's selections and every ranking statistic do; sampled weighs the scores as given.
func TestSelectTies(t *testing.T) {
	eps := rankstat.DefaultTieTolerance / 10
	scores := []float64{0.5, 0.5 + eps, 0.2, 0.2 - eps, 0.4}
	labels := []uint8{0, 0, 0, 0, 0}
	for _, tc := range []struct {
		st   q1.Strategy
		want []int
	}{{q1.StrategyTop, []int{0}}, {q1.StrategyBottom, []int{2}}, {q1.StrategyBalanced, []int{0}}} {
		if got, err := q1.Select(scores, labels, tc.st, 1, 1); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s-1: %v, %v; want %v", tc.st, got, err, tc.want)
		}
	}
}

func TestSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	n := 1000
	scores, labels := make([]float64, n), make([]uint8, n)
	for i := range scores {
		scores[i] = (1 + math.Round(rng.Float64()*50)) / 51 // many ties, all positive
		labels[i] = uint8(rng.IntN(10))
	}
	scores[17] = 0
	for _, st := range q1.Strategies() {
		for _, k := range []int{1, 10, 95, 1000} {
			sel, err := q1.Select(scores, labels, st, k, 3)
			if st == q1.StrategyBalanced && k == 1000 {
				if err == nil {
					t.Errorf("balanced k=1000: want an error (classes have fewer than 100 rows)")
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s k=%d: %v", st, k, err)
			}
			seen := map[int]bool{}
			for _, i := range sel {
				if i < 0 || i >= n || seen[i] {
					t.Fatalf("%s k=%d: bad or repeated index %d", st, k, i)
				}
				seen[i] = true
			}
			if len(sel) != k {
				t.Fatalf("%s k=%d: %d rows", st, k, len(sel))
			}
			again, _ := q1.Select(scores, labels, st, k, 3)
			if !slices.Equal(sel, again) {
				t.Errorf("%s k=%d: not reproducible", st, k)
			}
			if st == q1.StrategyTop || st == q1.StrategyBottom {
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, i := range sel {
					lo, hi = math.Min(lo, scores[i]), math.Max(hi, scores[i])
				}
				for i := range scores {
					if seen[i] {
						continue
					}
					if st == q1.StrategyTop && scores[i] > lo || st == q1.StrategyBottom && scores[i] < hi {
						t.Fatalf("%s k=%d: row %d (%.3f) left out", st, k, i, scores[i])
					}
				}
			}
			if st == q1.StrategyBalanced {
				var counts [10]int
				for _, i := range sel {
					counts[labels[i]]++
				}
				for c, cnt := range counts {
					want := k / 10
					if c < k%10 {
						want++
					}
					if cnt != want {
						t.Errorf("balanced k=%d: %d rows of digit %d, want %d", k, cnt, c, want)
					}
				}
			}
		}
	}
	r1, _ := q1.Select(scores, labels, q1.StrategyRandom, 50, 1)
	r2, _ := q1.Select(scores, labels, q1.StrategyRandom, 50, 2)
	if slices.Equal(r1, r2) {
		t.Error("random: seeds 1 and 2 gave the same rows")
	}
	// Ties go to the smaller index.
	top, _ := q1.Select([]float64{1, 2, 2, 2, 0}, nil, q1.StrategyTop, 2, 0)
	if !slices.Equal(top, []int{1, 2}) {
		t.Errorf("ties: %v", top)
	}
	// A zero score is never sampled while positive ones remain.
	for seed := uint64(1); seed < 20; seed++ {
		s, _ := q1.Select(scores, labels, q1.StrategySampled, n-1, seed)
		if slices.Contains(s, 17) {
			t.Fatalf("seed %d: sampled the zero-score row", seed)
		}
	}
	for _, k := range []int{0, -1, n + 1} {
		if _, err := q1.Select(scores, labels, q1.StrategyTop, k, 0); err == nil {
			t.Errorf("k=%d: no error", k)
		}
	}
	if _, err := q1.Select([]float64{1, math.NaN()}, nil, q1.StrategyTop, 1, 0); err == nil {
		t.Error("NaN score: no error")
	}
}

// TestRidgeMatchesNormalEquations compares FitRidge with a direct gonum solve of the normal equations
// on standardized features.
func TestRidgeMatchesNormalEquations(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	n, d := 300, 12
	x := matrixio.NewMatrix(n, d)
	labels := make([]uint8, n)
	for i := 0; i < n; i++ {
		labels[i] = uint8(rng.IntN(10))
		for j := 0; j < d; j++ {
			x.Data[i*d+j] = rng.NormFloat64()*float64(j+1) + float64(labels[i])*0.3
		}
	}
	rows := []int{}
	for i := 0; i < n; i += 2 {
		rows = append(rows, i)
	}
	m, err := q1.FitRidge(context.Background(), testutil.Backend(t).Backend, x, rows, labels, 0.5, true)
	if err != nil {
		t.Fatal(err)
	}
	// Slow reference: Z standardized (population sd), Yc centred one-hot, W = (ZᵀZ + 0.5 I)⁻¹ ZᵀYc.
	k := len(rows)
	z, y := mat.NewDense(k, d, nil), mat.NewDense(k, 10, nil)
	for i, r := range rows {
		for j := 0; j < d; j++ {
			z.Set(i, j, x.Data[r*d+j])
		}
		y.Set(i, int(labels[r]), 1)
	}
	mean, sd := make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		col := mat.Col(nil, j, z)
		for _, v := range col {
			mean[j] += v / float64(k)
		}
		for _, v := range col {
			sd[j] += (v - mean[j]) * (v - mean[j]) / float64(k)
		}
		sd[j] = math.Sqrt(sd[j])
		for i := 0; i < k; i++ {
			z.Set(i, j, (z.At(i, j)-mean[j])/sd[j])
		}
	}
	ybar := make([]float64, 10)
	for c := 0; c < 10; c++ {
		for i := 0; i < k; i++ {
			ybar[c] += y.At(i, c) / float64(k)
		}
		for i := 0; i < k; i++ {
			y.Set(i, c, y.At(i, c)-ybar[c])
		}
	}
	var a, rhs, w mat.Dense
	a.Mul(z.T(), z)
	for j := 0; j < d; j++ {
		a.Set(j, j, a.At(j, j)+0.5)
	}
	rhs.Mul(z.T(), y)
	if err := w.Solve(&a, &rhs); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < d; j++ {
		for c := 0; c < 10; c++ {
			if want := w.At(j, c) / sd[j]; math.Abs(m.W[j*10+c]-want) > 1e-10 {
				t.Fatalf("W[%d,%d] = %v, want %v", j, c, m.W[j*10+c], want)
			}
		}
	}
	for c := 0; c < 10; c++ {
		want := ybar[c]
		for j := 0; j < d; j++ {
			want -= mean[j] * w.At(j, c) / sd[j]
		}
		if math.Abs(m.B[c]-want) > 1e-10 {
			t.Errorf("b[%d] = %v, want %v", c, m.B[c], want)
		}
	}
}

// TestLinearLearns trains logistic regression on 500 random raw-pixel training rows (centred, not
// scaled): measured test accuracy on the 10,000 test rows 0.8317, in float64 and in float32 (0.8173
// when each pixel was scaled to unit deviation with a 1e-12 floor); asserted ≥ 0.78 (chance 0.1).
func TestLinearLearns(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	x := basis.Raw(ds)
	sel, _ := q1.Select(make([]float64, 60000), ds.Labels[:60000], q1.StrategyRandom, 500, 1)
	m, err := q1.FitLinear(context.Background(), testutil.Backend(t).Backend, x, sel, ds.Labels, q1.LinearOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acc := mnist.Accuracy(m.Predict(x, 60000, 70000), ds.Labels[60000:])
	t.Logf("500 random rows: test accuracy %.4f", acc)
	if acc < 0.78 {
		t.Errorf("test accuracy %.4f, want ≥ 0.78", acc)
	}
}

// TestQ1 runs the whole protocol on a pool of 1500 training and 500 test rows with two bases and all four
// classifiers, and checks the rows, the fixed-input contract, the result files and the cache.
func TestQ1(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := full.Sample(1500, 500)
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds, Cache: &workspace.Cache{Dir: t.TempDir()}}
	all := q1.Strategies()
	opts := q1.Options{Grids: []q1.Grid{
		{Classifier: q1.ClassifierLinear, K: []int{50, 300}, Strategies: all},
		{Classifier: q1.ClassifierRidge, K: []int{300}, Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyRandom}},
		{Classifier: q1.ClassifierProbe, K: []int{300}, Strategies: []q1.Strategy{q1.StrategyTop}},
		{Classifier: q1.ClassifierCNN, K: []int{100}, Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyRandom}},
	}, Seeds: 3, Linear: q1.LinearOptions{Steps: 60}, CNN: cnn.TrainOptions{Steps: 5}}
	bases := []basis.Spec{{Kind: basis.KindRaw}, {Kind: basis.KindReLU, Features: 200, Seed: 1}}
	ctx := context.Background()
	res, err := q1.Run(ctx, ws, bases, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Random rows once for all bases: linear 2 k × 3 seeds, ridge 3, cnn 3. Per basis: linear top,
	// bottom, balanced once (deterministic fits) and sampled × 3 seeds, at 2 k; ridge 1, probe 1; cnn
	// top × 3 seeds (a seeded classifier).
	count := map[string]int{}
	for _, r := range res.Rows {
		count[r.Basis]++
		sum := 0
		for _, c := range r.ClassCounts {
			sum += c
		}
		if sum != r.K || r.AccTest < 0 || r.AccTest > 1 || r.AccTrain < 0 || r.AccTrain > 1 || r.AccSelected < 0 {
			t.Errorf("row %+v", r)
		}
		if (r.Strategy == q1.StrategyRandom) != (r.Basis == q1.AnyBasis) {
			t.Errorf("random rows belong to basis %q, others to a basis: %+v", q1.AnyBasis, r)
		}
		// acc_train is on all 1500 training rows here: k selected ones and the 1500 − k others.
		if n := float64(ds.NumTrain); r.AccRest == nil || math.Abs(r.AccTrain*n-(r.AccSelected*float64(r.K)+*r.AccRest*(n-float64(r.K)))) > 1e-9 {
			t.Errorf("acc_rest of %+v is not the accuracy on the training rows not selected", r)
		}
	}
	if count[q1.AnyBasis] != 12 || count["raw"] != 17 || count["relu200-1"] != 17 {
		t.Fatalf("rows per basis %v", count)
	}
	// Linear on 300 random rows learns; the random seeds differ.
	fam := res.ByFamily()
	rnd, ok := q1.Find(fam, "", q1.AnyBasis, q1.StrategyRandom, 300, q1.ClassifierLinear)
	if !ok || rnd.Seeds != 3 || rnd.Test.Mean < 0.6 || rnd.Test.Min == rnd.Test.Max || !rnd.Test.HasCI || rnd.Over != q1.OverSeeds ||
		rnd.Test.Lo > rnd.Test.Mean || rnd.Test.Hi < rnd.Test.Mean {
		t.Errorf("random baseline %+v", rnd)
	}
	// Effects: every non-random family cell against random, with an interval around the estimate; a
	// deterministic linear top-k against random's seeds (ConstDiff), the cnn's seeded top-k by Welch.
	var methods = map[string]bool{}
	for _, e := range res.Effects() {
		top, _ := q1.Find(fam, "", e.Family, e.Strategy, e.K, e.Classifier)
		r, _ := q1.Find(fam, "", q1.AnyBasis, q1.StrategyRandom, e.K, e.Classifier)
		if math.Abs(e.Test.Estimate-(top.Test.Mean-r.Test.Mean)) > 1e-12 || e.Test.Lo > e.Test.Estimate || e.Test.Hi < e.Test.Estimate {
			t.Errorf("effect %+v: estimate is not %v − %v or outside its interval", e, top.Test.Mean, r.Test.Mean)
		}
		methods[string(e.Classifier)+" "+e.Test.Method] = true
	}
	if !methods["linear const"] || !methods["cnn welch"] {
		t.Errorf("effects by classifier and method: %v", methods)
	}
	// Fit, the verb a notebook cell calls, gives the same accuracy as the sweep for the same job.
	checked := false
	for _, row := range res.Rows {
		if row.Basis != "raw" || row.Strategy != q1.StrategyTop || row.Classifier != q1.ClassifierLinear || row.K != 50 {
			continue
		}
		lev, err := ws.Leverage(ctx, bases[0], leverage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tied, _, _ := rankstat.TieWithin(lev.Scores[:ds.NumTrain], rankstat.DefaultTieTolerance) // as Run selects
		sel, _ := q1.Select(tied, ds.Labels[:ds.NumTrain], q1.StrategyTop, 50, 1)
		acc, err := q1.Fit(ctx, ws, opts, []q1.Job{{Classifier: q1.ClassifierLinear, Rows: sel, Seed: 1}})
		if err != nil || acc[0].Test != row.AccTest || acc[0].Train != row.AccTrain || !acc[0].Cached {
			t.Errorf("Fit of raw top-50: %+v %v, the sweep's row %+v", acc, err, row)
		}
		// The precision is part of the cache key: a float64 fit is made, not served from the float32
		// one, and is served from its own entry the second time.
		o64 := opts
		o64.Linear.Float64 = true
		for i, wantCached := range []bool{false, true} {
			acc, err = q1.Fit(ctx, ws, o64, []q1.Job{{Classifier: q1.ClassifierLinear, Rows: sel, Seed: 1}})
			if err != nil || acc[0].Cached != wantCached {
				t.Errorf("float64 Fit %d of raw top-50: %+v %v, want cached %t", i+1, acc, err, wantCached)
			}
		}
		checked = true
		break
	}
	if !checked {
		t.Error("no raw top-50 linear row to compare Fit with")
	}
	if _, err := q1.Fit(ctx, ws, opts, []q1.Job{{Classifier: q1.ClassifierLinear, Rows: []int{3, 1600}}}); err == nil || !strings.Contains(err.Error(), "row 1600 is not a training row") {
		t.Errorf("Fit on a test row: %v", err)
	}
	// Every basis's top-k is compared between the two selection sources.
	if len(res.Sensitivity) != 2*3 {
		t.Errorf("sensitivity %+v", res.Sensitivity)
	}
	for _, sv := range res.Sensitivity {
		if sv.Shared < 0 || sv.Shared > 1 {
			t.Errorf("sensitivity %+v", sv)
		}
	}
	for _, key := range []string{"pool", "selection", "cnn", "linear", "probe", "grid"} {
		if res.Protocol[key] == "" {
			t.Errorf("protocol lacks %q", key)
		}
	}
	if !strings.Contains(res.Protocol["cnn"], "5 steps") {
		t.Errorf("protocol does not state the cnn budget: %q", res.Protocol["cnn"])
	}
	if !strings.HasSuffix(res.Protocol["linear"], "in float32") {
		t.Errorf("protocol does not state the linear classifier's precision: %q", res.Protocol["linear"])
	}
	dir := t.TempDir()
	if err := q1.Write(dir, res); err != nil {
		t.Fatal(err)
	}
	back, err := q1.ReadCSV(filepath.Join(dir, "results.csv"))
	if err != nil || len(back) != len(res.Rows) || back[3].AccTest != res.Rows[3].AccTest || back[3].Strategy != res.Rows[3].Strategy ||
		back[20].Family != res.Rows[20].Family || back[3].AccRest == nil || *back[3].AccRest != *res.Rows[3].AccRest {
		t.Fatalf("round trip: %v", err)
	}
	head, _ := os.ReadFile(filepath.Join(dir, "results.csv"))
	if !strings.HasPrefix(string(head), "basis,strategy,k,seed,classifier,acc_selected,acc_train,acc_test,seconds") {
		t.Errorf("results.csv header: %q", strings.SplitN(string(head), "\n", 2)[0])
	}
	figs, err := q1.WriteFigures(dir, res)
	if err != nil || len(figs) != 4*2*2 {
		t.Fatalf("figures %v %v", figs, err)
	}
	for _, f := range figs {
		if st, err := os.Stat(f); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// A re-run takes every fit from the cache.
	again, err := q1.Run(ctx, ws, bases, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again.Rows {
		if !r.Cached || r.AccTest != res.Rows[i].AccTest {
			t.Fatalf("re-run row %d not cached: %+v", i, r)
		}
	}
	if _, err := q1.Run(ctx, ws, bases[:1], q1.Options{Grids: []q1.Grid{{Classifier: q1.ClassifierLinear, K: []int{1501}}}}); err == nil {
		t.Error("k > training rows: no error")
	}
}

// TestQ1ProbeRandom checks that the probe's random baseline is fitted per basis (its input is the
// basis's own features), not shared as basis "any".
func TestQ1ProbeRandom(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: full.Sample(600, 200)}
	opts := q1.Options{Grids: []q1.Grid{{Classifier: q1.ClassifierProbe, K: []int{100}, Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyRandom}}},
		Seeds: 3, Linear: q1.LinearOptions{Steps: 20}}
	res, err := q1.Run(context.Background(), ws, []basis.Spec{{Kind: basis.KindRaw}, {Kind: basis.KindReLU, Features: 100, Seed: 1}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range res.Rows {
		if r.Strategy == q1.StrategyRandom {
			count[r.Basis]++
		}
	}
	if len(res.Rows) != 8 || count["raw"] != 3 || count["relu100-1"] != 3 {
		t.Errorf("probe random rows per basis: %v", count)
	}
	// The table shows each family's own random baseline beside its top-k (no empty cell).
	table := string(q1.Table(res, q1.ClassifierProbe))
	if strings.Count(table, "<tr>") != 3 || strings.Contains(table, "<td></td>") {
		t.Errorf("probe table should have 2 rows with every cell filled:\n%s", table)
	}
}

// TestQ1SelectOnTrain checks the training-rows-only selection: the rows come from the leverage of the
// training rows alone, which the sensitivity compares with the pool's.
func TestQ1SelectOnTrain(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := full.Sample(800, 300)
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds}
	ctx := context.Background()
	raw := basis.Spec{Kind: basis.KindRaw}
	opts := q1.Options{Grids: []q1.Grid{{Classifier: q1.ClassifierRidge, K: []int{100}, Strategies: []q1.Strategy{q1.StrategyTop}}}, Seeds: 2, SelectOn: q1.SelectOnTrain}
	res, err := q1.Run(ctx, ws, []basis.Spec{raw}, opts)
	if err != nil {
		t.Fatal(err)
	}
	train, err := ws.LeverageOfRows(ctx, raw, 800, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := ws.Leverage(ctx, raw, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := q1.Select(train.Scores, ds.Labels[:800], q1.StrategyTop, 100, 1)
	got := res.Rows[0].ClassCounts
	var wantCounts [10]int
	for _, i := range want {
		wantCounts[ds.Labels[i]]++
	}
	if res.SelectOn != q1.SelectOnTrain || got != wantCounts || !strings.Contains(res.Protocol["selection"], "training rows alone") {
		t.Errorf("select on train: %s, class counts %v, want %v; protocol %q", res.SelectOn, got, wantCounts, res.Protocol["selection"])
	}
	shared, _ := rankstat.TopKOverlap(pool.Scores[:800], train.Scores, []int{100})
	if len(res.Sensitivity) != 1 || res.Sensitivity[0].Shared != shared[0].Fraction {
		t.Errorf("sensitivity %+v, want %v", res.Sensitivity, shared[0].Fraction)
	}
	if _, err := q1.Run(ctx, ws, []basis.Spec{raw}, q1.Options{SelectOn: "test"}); err == nil {
		t.Error("select on test: no error")
	}
	if _, err := q1.Run(ctx, ws, []basis.Spec{raw}, q1.Options{Seeds: 1}); err == nil {
		t.Error("one seed: no error")
	}
}

// TestFitGroupedEqualsAlone checks that a model trained in a batch with others gets the accuracies it
// gets trained alone: the cnn networks of a batch are bitwise those trained alone, the linear models
// equal to rounding (identical predictions).
func TestFitGroupedEqualsAlone(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := full.Sample(1500, 500)
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds} // no cache: every Fit trains
	ctx := context.Background()
	opts := q1.Options{Linear: q1.LinearOptions{Steps: 40}, CNN: cnn.TrainOptions{Steps: 6}, TrainEvalRows: 300}
	var jobs []q1.Job
	for i, cl := range []q1.Classifier{q1.ClassifierLinear, q1.ClassifierLinear, q1.ClassifierLinear, q1.ClassifierCNN, q1.ClassifierCNN, q1.ClassifierCNN} {
		rows, err := q1.Select(make([]float64, ds.NumTrain), ds.Labels[:ds.NumTrain], q1.StrategyRandom, 120, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, q1.Job{Classifier: cl, Rows: rows, Seed: uint64(i + 1)})
	}
	together, err := q1.Fit(ctx, ws, opts, jobs)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		alone, err := q1.Fit(ctx, ws, opts, []q1.Job{j})
		if err != nil {
			t.Fatal(err)
		}
		a, b := alone[0], together[i]
		if a.Selected != b.Selected || a.Train != b.Train || a.Test != b.Test {
			t.Errorf("job %d (%s): alone %+v, in a batch of %d %+v", i, j.Classifier, a, len(jobs), b)
		}
		if b.Test < 0.3 {
			t.Errorf("job %d (%s): test accuracy %.3f: not learning", i, j.Classifier, b.Test)
		}
	}
}

// TestQ1Resume interrupts a sweep after its first finished fit and runs it again: the batches that
// finished come from the cache, the rest are trained, and the result is the uninterrupted one.
func TestQ1Resume(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := full.Sample(1500, 500)
	newWS := func() *workspace.Workspace {
		return &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds, Cache: &workspace.Cache{Dir: filepath.Join(t.TempDir(), "c")}}
	}
	opts := q1.Options{Grids: []q1.Grid{{Classifier: q1.ClassifierLinear, K: []int{40, 80}, Strategies: []q1.Strategy{q1.StrategyRandom, q1.StrategySampled}}},
		Seeds: 3, Linear: q1.LinearOptions{Steps: 30}}
	bases := []basis.Spec{{Kind: basis.KindReLU, Features: 100, Seed: 1}}
	want, err := q1.Run(context.Background(), newWS(), bases, opts)
	if err != nil {
		t.Fatal(err)
	}
	ws := newWS()
	ctx, cancel := context.WithCancel(context.Background())
	interrupted := opts
	interrupted.OnRow = func(q1.Row) { cancel() }
	if _, err := q1.Run(ctx, ws, bases, interrupted); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	again, err := q1.Run(context.Background(), ws, bases, opts)
	if err != nil {
		t.Fatal(err)
	}
	cached := 0
	for i, r := range again.Rows {
		if r.Cached {
			cached++
		}
		if r.AccTest != want.Rows[i].AccTest || r.AccSelected != want.Rows[i].AccSelected {
			t.Errorf("row %d after resuming: %+v, uninterrupted %+v", i, r, want.Rows[i])
		}
	}
	if cached == 0 || cached == len(again.Rows) {
		t.Errorf("%d of %d rows came from the cache after the interrupt, want the first batch's only", cached, len(again.Rows))
	}
}

// TestGridBases checks that a grid limited to some bases fits those only, and that a name matching no
// basis is an error.
func TestGridBases(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: full.Sample(900, 200)}
	bases := []basis.Spec{{Kind: basis.KindReLU, Features: 50, Seed: 1}, {Kind: basis.KindReLU, Features: 60, Seed: 1}}
	opts := q1.Options{Grids: []q1.Grid{{Classifier: q1.ClassifierRidge, K: []int{100}, Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyRandom}, Bases: []string{"relu60"}}}, Seeds: 2}
	res, err := q1.Run(context.Background(), ws, bases, opts)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range res.Rows {
		count[r.Basis]++
	}
	if count["relu60-1"] != 1 || count["relu50-1"] != 0 || count[q1.AnyBasis] != 2 {
		t.Errorf("rows per basis %v, want relu60-1 and random only", count)
	}
	opts.Grids[0].Bases = []string{"A"}
	if _, err := q1.Run(context.Background(), ws, bases, opts); err == nil || !strings.Contains(err.Error(), `names basis "A"`) {
		t.Errorf("unknown basis in a grid: %v", err)
	}
}

// TestFitNoRest checks that a model trained on every evaluation training row has no acc_rest (null in
// JSON, not a number), and that the effect of such cells has no gap.
func TestFitNoRest(t *testing.T) {
	full, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := full.Sample(300, 100)
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds}
	all := make([]int, ds.NumTrain)
	for i := range all {
		all[i] = i
	}
	acc, err := q1.Fit(context.Background(), ws, q1.Options{Linear: q1.LinearOptions{Steps: 5}},
		[]q1.Job{{Classifier: q1.ClassifierLinear, Rows: all}, {Classifier: q1.ClassifierLinear, Rows: all[:200]}})
	if err != nil {
		t.Fatal(err)
	}
	if acc[0].Rest != nil || acc[1].Rest == nil {
		t.Fatalf("acc_rest: %v (trained on every row) and %v (on 200 of 300), want nil and a value", acc[0].Rest, acc[1].Rest)
	}
	r := &q1.Result{Seeds: 2}
	for s, a := range []float64{0.8, 0.82} {
		r.Rows = append(r.Rows, q1.Row{Basis: q1.AnyBasis, Family: q1.AnyBasis, Strategy: q1.StrategyRandom, K: 300, Seed: uint64(s + 1),
			Classifier: q1.ClassifierLinear, AccTest: a, AccTrain: a})
	}
	r.Rows = append(r.Rows, q1.Row{Basis: "raw", Family: "raw", Strategy: q1.StrategyTop, K: 300, Seed: 1, Classifier: q1.ClassifierLinear, AccTest: 0.7, AccTrain: 0.7})
	if e := r.Effects(); len(e) != 1 || e[0].Gap != nil {
		t.Errorf("effects without acc_rest: %+v, want one effect without a gap", e)
	}
}
