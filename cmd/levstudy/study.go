package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/q1"
)

func cmdRun(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var c common
	var out, preset, weights, selectOn string
	fs := newFlagSet("run", stderr, "[-preset quick|full|original|tiny] [-out out/study]")
	c.register(fs)
	fs.StringVar(&preset, "preset", "quick", "quick (about 10 min on 2 CPU cores), full (the seed's study; hours on CPU), original (the original study's .pth networks), tiny (tests)")
	fs.StringVar(&out, "out", "out/study", "output folder")
	fs.StringVar(&weights, "weights", "", "folder of the original study's mnist-cnn-*.pth files (preset original)")
	fs.StringVar(&selectOn, "select-on", "", "Question 1's selection leverage: pool (all rows, test images included; the presets' default) or train (the training rows alone)")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if err := fileio.CheckOutputDir(out); err != nil {
		return fmt.Errorf("flag -out: %w", err)
	}
	p, err := levlib.ParsePreset(preset)
	if err != nil {
		return fmt.Errorf("flag -preset: %w", err)
	}
	if err := rejectFlags(fs, "the preset sets the rows, bases and training", "rows", "epochs", "train-rows", "basis", "method", "relu-features", "relu-seed"); err != nil {
		return err
	}
	ws, _, _, err := c.workspace(stderr)
	if err != nil {
		return err
	}
	study, err := levlib.NewStudy(ws, levlib.StudyOptions{Preset: p, Weights: weights, SelectOn: selectOn})
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := study.Run(ctx, out, func(name string) {
		c.bar.printf("[%s] %s\n", time.Since(start).Round(time.Second), name)
	})
	ws.Progress(progress.Report{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "levstudy run, preset %s, backend %s: %s\n", res.Plan.Preset, res.Backend, time.Since(start).Round(time.Second))
	for _, b := range res.Bases {
		fmt.Fprintf(stdout, "  %-22s rank %4d of %4d, Σℓ = %.3f, %d rows with ℓ > 0.99\n", b.Label, b.Rank, b.Cols, b.SumScores, b.NearOne)
	}
	for _, s := range res.Q1.ByFamily() {
		if s.Strategy == q1.StrategyTop || s.Strategy == q1.StrategyRandom {
			fmt.Fprintf(stdout, "  Q1 %-7s %-6s k=%-5d %-6s: test %s, train %.4f\n", s.Family, s.Strategy, s.K, s.Classifier, s.Test, s.Train.Mean)
		}
	}
	for _, e := range res.Q1.Effects() {
		fmt.Fprintf(stdout, "  Q1 effect %-7s %-8s k=%-5d %-6s: test %s\n", e.Family, string(e.Strategy)+"−random", e.K, e.Classifier, e.Test)
	}
	for _, s := range res.Q2.Summaries {
		if s.Statistic == "kendall_tau_b" && s.GroupA == s.GroupB && s.Pairs > 0 {
			fmt.Fprintf(stdout, "  Q2 tau-b within %s: mean %.3f (%d pairs; null sd %.4f)\n", s.GroupA, s.Mean, s.Pairs, res.Q2.NullSD)
		}
	}
	for _, c := range res.Q2.WithinBetween.Families {
		fmt.Fprintf(stdout, "  Q2 %s: tau-b within %.3f vs between %.3f, p = %.3g (%s, %d relabellings)\n", c.Family, c.WithinMean, c.BetweenMean, c.P, c.Null, c.Relabellings)
	}
	for _, f := range res.Findings {
		fmt.Fprintf(stdout, "  finding: %s\n", f.Text)
	}
	fmt.Fprintf(stdout, "report: %s\n", res.ReportPath)
	return nil
}
