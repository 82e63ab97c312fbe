package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/levstudy/levstudy/levlib"
)

func cmdQ1(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var c common
	var out, bases, kFlag, classifiers, strategies string
	var seeds int
	var combined bool
	fs := newFlagSet("q1", stderr, "-bases raw,relu,cnn:A1 [-classifier linear] [-k 100,1000,10000] -out DIR")
	c.register(fs)
	fs.StringVar(&bases, "bases", "raw,relu", "comma-separated bases (see -basis)")
	fs.StringVar(&classifiers, "classifier", "linear", "comma-separated classifiers: linear, ridge, cnn (cnn is slow on CPU)")
	fs.StringVar(&kFlag, "k", intsString(levlib.DefaultQ1K), "k grid (selected training rows)")
	fs.StringVar(&strategies, "strategies", "top,bottom,random,sampled,balanced", "selection strategies")
	fs.IntVar(&seeds, "seeds", 5, "seeds of the random baseline")
	fs.BoolVar(&combined, "combined-leverage", false, "select by leverage of all 70k rows (as the seed's figures) instead of the training rows'")
	fs.StringVar(&out, "out", "", "output folder")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if out == "" {
		return fmt.Errorf("flag -out: missing (the folder to write results.csv, results.json and plots to)")
	}
	ks, err := parseInts("k", kFlag)
	if err != nil {
		return err
	}
	opts := levlib.Q1Options{K: ks, RandomSeeds: seeds, CombinedLeverage: combined}
	if seeds < 1 || seeds > 100 {
		return fmt.Errorf("flag -seeds: %d, want 1..100", seeds)
	}
	for _, s := range strings.Split(classifiers, ",") {
		cl, err := levlib.ParseClassifier(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("flag -classifier: %w", err)
		}
		opts.Classifiers = append(opts.Classifiers, cl)
	}
	for _, s := range strings.Split(strategies, ",") {
		st, err := levlib.ParseStrategy(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("flag -strategies: %w", err)
		}
		opts.Strategies = append(opts.Strategies, st)
	}
	specs, err := parseBases(bases)
	if err != nil {
		return err
	}
	ws, _, _, err := c.workspace(stderr)
	if err != nil {
		return err
	}
	opts.CNN = levlib.CNNTrainOptions{Epochs: c.epochs}
	done := 0
	opts.OnRow = func(r levlib.Q1Row) {
		done++
		ws.Progress(levlib.Progress{})
		cached := ""
		if r.Cached {
			cached = " (cached)"
		}
		fmt.Fprintf(stderr, "q1 %d: %s %s-%d seed %d %s: test %.4f%s\n", done, r.Basis, r.Strategy, r.K, r.Seed, r.Classifier, r.AccTest, cached)
	}
	res, err := levlib.Q1(ctx, ws, specs, opts)
	ws.Progress(levlib.Progress{})
	if err != nil {
		return err
	}
	if err := levlib.WriteQ1(out, res); err != nil {
		return err
	}
	figs, err := levlib.Q1Figures(out, res)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-12s %-9s %7s %-10s %9s %7s\n", "basis", "strategy", "k", "classifier", "acc_test", "seeds")
	for _, s := range res.Summarize() {
		fmt.Fprintf(stdout, "%-12s %-9s %7d %-10s %9.4f %7d\n", s.Basis, s.Strategy, s.K, s.Classifier, s.Mean, s.Seeds)
	}
	fmt.Fprintf(stdout, "wrote %s (results.csv, results.json, %d plots)\n", out, len(figs))
	return nil
}
