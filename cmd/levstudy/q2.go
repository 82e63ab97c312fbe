package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// parseInts parses a comma-separated list of positive integers for flag name.
func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("flag -%s: %q is not a positive integer", name, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func intsString(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// rankCorrJSON is the output of rankcorr -json.
type rankCorrJSON struct {
	A            string             `json:"a"`
	B            string             `json:"b"`
	N            int                `json:"n"`
	KendallTauB  float64            `json:"kendall_tau_b"`
	Spearman     float64            `json:"spearman"`
	WeightedTau  float64            `json:"weighted_tau"`
	SwapDistance float64            `json:"swap_distance"`
	NullSD       float64            `json:"null_sd"`
	Overlap      []rankstat.Overlap `json:"overlap"`
}

func cmdRankCorr(stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("rankcorr", stderr, "[-json] [-k 100,1000,…] A.csv B.csv")
	asJSON := fs.Bool("json", false, "print JSON")
	kFlag := fs.String("k", intsString(q2.DefaultOverlapK()), "top-k grid for overlaps (by default the values up to the number of rows)")
	if err := fs.Parse(args); err != nil {
		if helped(args) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "levstudy rankcorr: want two leverage CSV files, got %d arguments\n", fs.NArg())
		fs.Usage()
		return errUsage
	}
	ks, err := parseInts("k", *kFlag)
	if err != nil {
		return err
	}
	a, b := fs.Arg(0), fs.Arg(1)
	ta, err := matrixio.ReadLeverageCSV(a)
	if err != nil {
		return err
	}
	tb, err := matrixio.ReadLeverageCSV(b)
	if err != nil {
		return err
	}
	if len(ta.Scores) != len(tb.Scores) {
		return fmt.Errorf("%s has %d rows and %s has %d: compare leverage of the same rows", a, len(ta.Scores), b, len(tb.Scores))
	}
	if ta.Label != nil && tb.Label != nil { // both from MNIST bases: the same images?
		for i := range ta.Label {
			if ta.Label[i] != tb.Label[i] {
				return fmt.Errorf("%s and %s differ at row %d (labels %d and %d): not the same data", a, b, i, ta.Label[i], tb.Label[i])
			}
		}
	}
	n := len(ta.Scores)
	for _, f := range []struct {
		path   string
		scores []float64
	}{{a, ta.Scores}, {b, tb.Scores}} {
		if constant(f.scores) {
			return fmt.Errorf("%s: all %d scores are equal (%g): rank correlations of a constant ranking are undefined", f.path, n, f.scores[0])
		}
	}
	kSet := false
	fs.Visit(func(f *flag.Flag) { kSet = kSet || f.Name == "k" })
	if !kSet { // the default grid, up to the rows there are
		ks = slices.DeleteFunc(ks, func(k int) bool { return k > n })
	}
	for _, k := range ks {
		if k > n {
			return fmt.Errorf("flag -k: %d is larger than the %d rows of %s (want 1..%d)", k, n, a, n)
		}
	}
	p, err := q2.ComparePair(a, b, ta.Scores, tb.Scores, ks)
	if err != nil {
		return err
	}
	out := rankCorrJSON{A: a, B: b, N: len(ta.Scores), KendallTauB: p.KendallTauB, Spearman: p.Spearman,
		WeightedTau: p.WeightedTau, SwapDistance: p.SwapDistance, NullSD: rankstat.KendallNullSD(len(ta.Scores)), Overlap: p.Overlap}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "n = %d\nKendall tau-b  %.4f   (random permutation: 0 ± %.4f)\nswap distance  %.4f\nSpearman rho   %.4f\nweighted tau   %.4f\n",
		out.N, out.KendallTauB, out.NullSD, out.SwapDistance, out.Spearman, out.WeightedTau)
	fmt.Fprintf(stdout, "%8s %8s %9s %9s %9s\n", "k", "shared", "|A∩B|/k", "random", "Jaccard")
	for _, o := range out.Overlap {
		fmt.Fprintf(stdout, "%8d %8d %9.4f %9.4f %9.4f\n", o.K, o.Shared, o.Fraction, o.ExpectedFraction, o.Jaccard)
	}
	return nil
}

// constant reports whether every value of x equals the first.
func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// sweepFlags are the flags q1 and q2 share: the common ones, the bases, a k grid and the output folder.
type sweepFlags struct {
	common
	bases, k, out string
}

// register adds the flags to fs, with the k grid's default and meaning, and what -out receives.
func (f *sweepFlags) register(fs *flag.FlagSet, basesUsage string, k []int, kUsage string) {
	f.common.register(fs)
	fs.StringVar(&f.bases, "bases", "raw,relu", basesUsage)
	fs.StringVar(&f.k, "k", intsString(k), kUsage)
	fs.StringVar(&f.out, "out", "", "output folder")
}

// setup checks the flags once parsed — no flag of a single basis, an output folder that can be
// written (outWhat says what goes there), a k grid, bases — and opens the workspace.
func (f *sweepFlags) setup(fs *flag.FlagSet, stderr io.Writer, outWhat string) (specs []basis.Spec, ks []int, ws *workspace.Workspace, err error) {
	if err := rejectFlags(fs, "give the bases with -bases; leverage is exact", "basis", "method", "relu-features", "relu-seed"); err != nil {
		return nil, nil, nil, err
	}
	if f.out == "" {
		return nil, nil, nil, fmt.Errorf("flag -out: missing (the folder to write %s to)", outWhat)
	}
	if err := fileio.CheckOutputDir(f.out); err != nil {
		return nil, nil, nil, fmt.Errorf("flag -out: %w", err)
	}
	if ks, err = parseInts("k", f.k); err != nil {
		return nil, nil, nil, err
	}
	if specs, err = parseBases(f.bases); err != nil {
		return nil, nil, nil, err
	}
	ws, _, _, err = f.workspace(stderr)
	return specs, ks, ws, err
}

func cmdQ2(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f sweepFlags
	var shuffles int
	fs := newFlagSet("q2", stderr, "-bases raw,relu,cnn:A1,… [-k 1000,10000] -out DIR")
	f.register(fs, "comma-separated bases (see -basis); torch:DIR/*.pth globs are expanded", q2.DefaultOverlapK(), "top-k grid for overlaps and consistently chosen samples")
	fs.IntVar(&shuffles, "shuffles", 200, "seeded shuffles for the empirical null band of tau-b (its 2.5–97.5% quantiles)")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if shuffles < 2 || shuffles > rankstat.MaxShuffles {
		return fmt.Errorf("flag -shuffles: %d, want 2 to %d", shuffles, rankstat.MaxShuffles)
	}
	specs, ks, ws, err := f.setup(fs, stderr, "pairs.csv, summary.json and figures")
	if err != nil {
		return err
	}
	out := f.out
	for _, k := range ks {
		if n := ws.Data.N(); k >= n {
			return fmt.Errorf("flag -k: %d, want 1..%d (the %d rows ranked)", k, n-1, n)
		}
	}
	res, err := q2.Run(ctx, ws, specs, q2.Options{K: ks, Shuffles: shuffles})
	ws.Progress(progress.Report{})
	if err != nil {
		return err
	}
	if err := q2.Write(out, res); err != nil {
		return err
	}
	figs, err := q2.WriteFigures(filepath.Join(out, "figures"), res, ws.Data, 0)
	if err != nil {
		return err
	}
	printQ2(stdout, res)
	fmt.Fprintf(stdout, "wrote %s (pairs.csv, summary.json, %d figures)\n", out, len(figs))
	return nil
}

// parseBases parses a comma-separated basis list, expanding globs in torch: paths. A parameter of a
// relu basis belongs to it: "raw,relu:F=200,seed=3" is two bases.
func parseBases(s string) ([]basis.Spec, error) {
	var names []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if len(names) > 0 && strings.Contains(b, "=") && !strings.Contains(b, ":") {
			names[len(names)-1] += "," + b
			continue
		}
		names = append(names, b)
	}
	var specs []basis.Spec
	for _, b := range names {
		if strings.HasPrefix(b, "torch:") && strings.ContainsAny(b, "*?[") {
			files, err := filepath.Glob(strings.TrimPrefix(b, "torch:"))
			if err != nil || len(files) == 0 {
				return nil, fmt.Errorf("flag -bases: %s matches no file", b)
			}
			for _, f := range files {
				specs = append(specs, basis.Spec{Kind: basis.KindTorch, Path: f})
			}
			continue
		}
		spec, err := basis.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("flag -bases: %w", err)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func printQ2(w io.Writer, r *q2.Result) {
	fmt.Fprintf(w, "Kendall tau-b between leverage rankings (random permutation: 0 ± %.4f; %s)\n", r.NullSD, r.NullBand.Describe())
	fmt.Fprintf(w, "%-9s", "")
	for _, b := range r.Bases {
		fmt.Fprintf(w, " %8s", b)
	}
	fmt.Fprintln(w)
	tau := map[[2]string]float64{}
	for _, p := range r.Pairs {
		tau[[2]string{p.A, p.B}], tau[[2]string{p.B, p.A}] = p.KendallTauB, p.KendallTauB
	}
	for _, a := range r.Bases {
		fmt.Fprintf(w, "%-9s", a)
		for _, b := range r.Bases {
			if a == b {
				fmt.Fprintf(w, " %8s", "1")
			} else {
				fmt.Fprintf(w, " %8.3f", tau[[2]string{a, b}])
			}
		}
		fmt.Fprintln(w)
	}
	for _, s := range r.Summaries {
		if s.Statistic == "kendall_tau_b" {
			fmt.Fprintf(w, "tau-b %s–%s: mean %.3f (sd %.3f, %d pairs, range %.3f–%.3f)\n", s.GroupA, s.GroupB, s.Mean, s.SD, s.Pairs, s.Min, s.Max)
		}
	}
}
