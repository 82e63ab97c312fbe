package q2_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// TestQ2 runs the Question 2 analysis on 1000 rows with two ReLU bases (a group of 2), RAW and two
// untrained CNNs, and checks the statistics against direct computations and the files written.
func TestQ2(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 1000)
	if err != nil {
		t.Fatal(err)
	}
	ws := &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds, Cache: &workspace.Cache{Dir: t.TempDir()}}
	bases := []basis.Spec{
		{Kind: basis.KindRaw},
		{Kind: basis.KindReLU, Features: 300, Seed: 1}, {Kind: basis.KindReLU, Features: 300, Seed: 2},
		{Kind: basis.KindCNN, Group: cnn.GroupC, Seed: 1}, {Kind: basis.KindCNN, Group: cnn.GroupC, Seed: 2},
	}
	dir := t.TempDir()
	res, err := q2.Run(context.Background(), ws, bases, q2.Options{K: []int{10, 50, 100},
		RidgeRel: []float64{1e-3}, RidgeK: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pairs) != 10 || strings.Join(res.Bases, " ") != "raw relu300-1 relu300-2 C1 C2" {
		t.Fatalf("bases %v, %d pairs", res.Bases, len(res.Pairs))
	}
	if math.Abs(res.NullSD-math.Sqrt(2*(2*1000.0+5)/(9*1000*999))) > 1e-15 {
		t.Errorf("null sd %v", res.NullSD)
	}
	// Untrained nets of the same architecture agree far beyond chance (tau ≫ null SD).
	for _, p := range res.Pairs {
		if p.A == "C1" && p.B == "C2" && p.KendallTauB < 10*res.NullSD {
			t.Errorf("C1–C2 tau-b %.3f, not above the null", p.KendallTauB)
		}
	}
	// Consensus counts agree with a direct count.
	for _, c := range res.Consensus {
		if c.Group != "C" || c.K != 50 {
			continue
		}
		a, b := rankstat.TopK(res.Scores("C1"), 50), rankstat.TopK(res.Scores("C2"), 50)
		in := map[int]bool{}
		for _, i := range a {
			in[i] = true
		}
		both := 0
		for _, i := range b {
			if in[i] {
				both++
			}
		}
		if len(c.Chosen) != both || math.Abs(c.ExpectedChosen-1000*(50.0/1000)*(50.0/1000)) > 1e-12 {
			t.Errorf("consensus %d (expected %.2f), direct count %d", len(c.Chosen), c.ExpectedChosen, both)
		}
	}
	// Controls: tau with ink, Kendall's partial tau given ink and the tau within ink bins, against direct
	// computations; one ridge control per basis.
	ink := mnist.Ink(ds)
	c1, c2 := res.Scores("C1"), res.Scores("C2")
	t1, _ := rankstat.KendallTauB(c1, ink)
	t2, _ := rankstat.KendallTauB(c2, ink)
	t12, _ := rankstat.KendallTauB(c1, c2)
	if math.Abs(res.InkTau["C1"]-t1.TauB) > 1e-12 {
		t.Errorf("ink tau of C1 %v, direct %v", res.InkTau["C1"], t1.TauB)
	}
	order := make([]int, len(ink))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ink[order[a]] < ink[order[b]] })
	binned := 0.0
	for k := 0; k < 10; k++ {
		rows := order[k*100 : (k+1)*100]
		xa, xb := make([]float64, 100), make([]float64, 100)
		for i, r := range rows {
			xa[i], xb[i] = c1[r], c2[r]
		}
		kt, _ := rankstat.KendallTauB(xa, xb)
		binned += kt.TauB / 10
	}
	for _, p := range res.Pairs {
		if p.A != "C1" || p.B != "C2" {
			continue
		}
		want := (t12.TauB - t1.TauB*t2.TauB) / math.Sqrt((1-t1.TauB*t1.TauB)*(1-t2.TauB*t2.TauB))
		if math.Abs(p.PartialTauInk-want) > 1e-12 || math.Abs(p.BinnedTauInk-binned) > 1e-12 {
			t.Errorf("C1–C2 partial tau %v (want %v), binned %v (want %v)", p.PartialTauInk, want, p.BinnedTauInk, binned)
		}
	}
	if len(res.Ridge) != len(bases) {
		t.Errorf("%d ridge controls, want one per basis", len(res.Ridge))
	}
	for _, rc := range res.Ridge {
		if rc.KendallTauB < 0.3 || rc.TopKShared <= 0 || rc.TopKShared > 1 || rc.EffectiveRank >= float64(res.Ranks[rc.Basis]) {
			t.Errorf("ridge control %+v (rank %d)", rc, res.Ranks[rc.Basis])
		}
	}
	if res.NullBand.N != 200 || !strings.Contains(res.NullBand.Describe(), "quantiles of 200 shuffles") {
		t.Errorf("null band %+v", res.NullBand)
	}
	var found bool
	for _, s := range res.Summaries {
		if s.GroupA == "C" && s.GroupB == "C" && s.Statistic == "kendall_tau_b" && s.Pairs == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no within-C summary: %+v", res.Summaries)
	}
	if err := q2.Write(dir, res); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "pairs.csv"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "a,b,statistic,k,value" || len(lines) != 1+10*(6+2*3) || !strings.HasPrefix(lines[1], "raw,relu300-1,kendall_tau_b,,") {
		t.Errorf("pairs.csv: %d lines, %q", len(lines), lines[:2])
	}
	var back map[string]any
	b, _ = os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &back); err != nil || back["null_sd"] == nil || back["pairs"] == nil {
		t.Errorf("summary.json: %v", err)
	}
	if _, err := q2.WriteFigures(filepath.Join(dir, "figures"), res, ds, 0); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"q2_kendall_tau_b.png", "q2_weighted_tau.svg", "q2_jaccard_top100.png", "q2_overlap_vs_k.png", "q2_consensus_C_top100.png"} {
		if st, err := os.Stat(filepath.Join(dir, "figures", f)); err != nil || st.Size() < 1000 {
			t.Errorf("figure %s: %v", f, err)
		}
	}
}
