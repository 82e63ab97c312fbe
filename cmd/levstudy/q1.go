package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/q1"
)

func cmdQ1(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var f sweepFlags
	var classifiers, strategies, selectOn string
	var seeds, steps, trainEval int
	var doubleSoftmax, linearFloat64 bool
	fs := newFlagSet("q1", stderr, "-bases raw,relu,cnn:A1 [-classifier cnn|linear|probe|ridge] [-k 1000,2000,…] -out DIR")
	f.register(fs, "comma-separated bases (see -basis); each chooses rows, the classifier's input is fixed", q1.DefaultK(), "k grid (selected training rows)")
	fs.StringVar(&classifiers, "classifier", "cnn", "comma-separated classifiers: cnn (MnistConvNet on the raw images), linear (logistic regression on the raw pixels), ridge (least squares on the raw pixels), probe (logistic regression on the basis's own features)")
	fs.StringVar(&strategies, "strategies", "top,bottom,random,sampled,balanced", "selection strategies")
	fs.IntVar(&seeds, "seeds", q1.DefaultSeeds, "replicates of every cell, seeds 1..N: seed s draws the random and sampled selections and initializes the cnn classifier (a deterministic fit is made once)")
	fs.StringVar(&selectOn, "select-on", q1.SelectOnPool, "leverage that selects: pool (all rows, test images included, as the original study) or train (the training rows alone)")
	fs.IntVar(&steps, "steps", 500, "training steps of the cnn classifier (batch 64), the same for every k")
	fs.IntVar(&trainEval, "train-eval-rows", 0, "measure training accuracy on this many training rows drawn with seed 1 (0: all)")
	fs.BoolVar(&doubleSoftmax, "double-softmax", false, "train the cnn classifier with the original study's loss (cross-entropy on softmax outputs), to reproduce its numbers")
	fs.BoolVar(&linearFloat64, "linear-float64", false, "train the linear and probe classifiers in float64 (default float32, as PyTorch)")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if seeds < 2 || seeds > 100 {
		return fmt.Errorf("flag -seeds: %d, want 2..100 (an interval needs two replicates)", seeds)
	}
	if selectOn != q1.SelectOnPool && selectOn != q1.SelectOnTrain {
		return fmt.Errorf("flag -select-on: %q, want pool or train", selectOn)
	}
	if steps < 1 || steps > 1_000_000 {
		return fmt.Errorf("flag -steps: %d, want 1..1000000", steps)
	}
	if trainEval < 0 {
		return fmt.Errorf("flag -train-eval-rows: %d, want ≥ 0", trainEval)
	}
	var sts []q1.Strategy
	for _, s := range strings.Split(strategies, ",") {
		st, err := q1.ParseStrategy(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("flag -strategies: %w", err)
		}
		sts = append(sts, st)
	}
	specs, ks, ws, err := f.setup(fs, stderr, "results.csv, results.json and plots")
	if err != nil {
		return err
	}
	out := f.out
	opts := q1.Options{Seeds: seeds, SelectOn: selectOn, TrainEvalRows: trainEval, CNN: cnn.TrainOptions{Steps: steps, DoubleSoftmax: doubleSoftmax},
		Linear: q1.LinearOptions{Float64: linearFloat64}}
	for _, s := range strings.Split(classifiers, ",") {
		cl, err := q1.ParseClassifier(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("flag -classifier: %w", err)
		}
		opts.Grids = append(opts.Grids, q1.Grid{Classifier: cl, K: ks, Strategies: sts})
	}
	done := 0
	opts.OnRow = func(r q1.Row) {
		done++
		cached := ""
		if r.Cached {
			cached = " (cached)"
		}
		f.bar.printf("q1 %d: %s %s-%d seed %d %s: train %.4f, test %.4f%s\n", done, r.Basis, r.Strategy, r.K, r.Seed, r.Classifier, r.AccTrain, r.AccTest, cached)
	}
	res, err := q1.Run(ctx, ws, specs, opts)
	ws.Progress(progress.Report{})
	if err != nil {
		return err
	}
	if err := q1.Write(out, res); err != nil {
		return err
	}
	figs, err := q1.WriteFigures(out, res)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-22s %-9s %7s %-10s %9s %9s %9s %6s\n", "basis", "strategy", "k", "classifier", "acc_test", "acc_train", "acc_sel", "seeds")
	for _, s := range res.Summarize() {
		fmt.Fprintf(stdout, "%-22s %-9s %7d %-10s %9.4f %9.4f %9.4f %6d\n", s.Basis, s.Strategy, s.K, s.Classifier, s.Test.Mean, s.Train.Mean, s.Selected.Mean, s.Seeds)
	}
	fmt.Fprintf(stdout, "protocol: %s\n", res.Protocol["grid"])
	fmt.Fprintf(stdout, "wrote %s (results.csv, results.json, %d plots)\n", out, len(figs))
	return nil
}
