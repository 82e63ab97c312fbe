package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"

	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// The leverage command: scores of an MNIST basis (computed, cached) or of any N×D matrix in a .npy or
// CSV file (streamed from disk in row chunks, never cached), written as CSV or .npy with a JSON
// summary beside them.

func cmdLeverage(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var c common
	var out string
	fs := newFlagSet("leverage", stderr, "-basis B|npy:FILE.npy|csv:FILE.csv [-method exact|qr] [-ridge λ] -out FILE.csv|FILE.npy|-")
	c.register(fs)
	fs.StringVar(&out, "out", "", "output: FILE.csv (index,split,label,leverage; index,leverage for npy:/csv: bases), FILE.npy (float64 scores, shape (N,)) or - (CSV on stdout); FILE.json beside it records the run")
	fs.Float64Var(&c.ridge, "ridge", 0, "ridge leverage ℓᵢ(λ) = xᵢᵀ(XᵀX + λI)⁻¹xᵢ with this λ ≥ 0 (0: exact leverage; X's own units)")
	if err := parse(fs, args); err != nil || helped(args) {
		return err
	}
	if out == "" {
		return fmt.Errorf("flag -out: missing (the CSV or .npy file to write, or - for CSV on stdout)")
	}
	asNPY, err := leverageOutputKind(out)
	if err != nil {
		return err
	}
	if c.ridge < 0 || math.IsNaN(c.ridge) || math.IsInf(c.ridge, 0) {
		return fmt.Errorf("flag -ridge: %v, want a finite λ ≥ 0", c.ridge)
	}
	method, err := leverage.ParseMethod(c.method)
	if err != nil {
		return fmt.Errorf("flag -method: %w", err)
	}
	if c.ridge > 0 && method != leverage.Exact {
		return fmt.Errorf("flag -ridge: ridge leverage needs -method exact, not %s", method)
	}
	spec, err := basis.Parse(c.basis)
	if err != nil {
		return fmt.Errorf("flag -basis: %w", err)
	}
	if out != "-" {
		// Before any work: the output and its summary must not replace an input, a folder or a special
		// file, and their folder must exist.
		if err := fileio.CheckOutput(out, spec.Path); err != nil {
			return fmt.Errorf("flag -out: %w", err)
		}
		sp := leverage.SummaryPath(out)
		if st, err := os.Stat(sp); err == nil && st.IsDir() {
			return fmt.Errorf("flag -out: %s, where the summary of %s goes, is a folder (remove it or choose another -out)", sp, out)
		}
		if err := fileio.CheckOutput(sp, spec.Path); err != nil {
			return fmt.Errorf("flag -out: the summary of %s: %w", out, err)
		}
	}
	var (
		ds  *mnist.Dataset // nil for a file basis
		src leverage.Source
		res *leverage.Result
	)
	start := time.Now()
	if spec.Kind.IsFile() {
		res, src, err = c.fileLeverage(ctx, fs, stderr, spec, method)
	} else {
		var ws *workspace.Workspace
		ws, spec, res, err = c.leverage(ctx, stderr)
		if err == nil {
			ds = ws.Data
			src = leverage.Source{Basis: spec.String(), Data: c.data, DataRows: ds.N()}
		}
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if spec.Kind.IsFile() {
		printLeverage(stderr, spec, res, elapsed)
	}
	if out == "-" {
		bw := bufio.NewWriter(stdout)
		if ds != nil {
			err = matrixio.EncodeLeverageCSV(bw, ds, res.Scores)
		} else {
			err = matrixio.EncodeScoresCSV(bw, res.Scores)
		}
		if err != nil {
			return err
		}
		return bw.Flush()
	}
	// The summary is encoded first (a value JSON cannot hold fails here, before anything is written);
	// then the scores and the summary replace the previous pair together or not at all.
	sum := leverage.NewSummary(src, res, elapsed)
	sum.Output = out
	var summary bytes.Buffer
	if err := leverage.WriteSummary(&summary, sum); err != nil {
		return fmt.Errorf("leverage of %s: %w", spec, err)
	}
	write := func(w io.Writer) error { return matrixio.EncodeScoresCSV(w, res.Scores) }
	switch {
	case asNPY:
		write = func(w io.Writer) error { return matrixio.EncodeNPYVector(w, res.Scores) }
	case ds != nil:
		write = func(w io.Writer) error { return matrixio.EncodeLeverageCSV(w, ds, res.Scores) }
	}
	err = fileio.WriteAtomicGroup(fileio.AtomicFile{Path: out, Write: write},
		fileio.AtomicFile{Path: leverage.SummaryPath(out), Write: func(w io.Writer) error { _, err := w.Write(summary.Bytes()); return err }})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\nwrote %s\n", out, leverage.SummaryPath(out))
	return nil
}

// leverageOutputKind checks the name given to leverage -out: "-" (CSV on stdout), FILE.csv or FILE.npy
// (either case); it reports whether the output is .npy.
func leverageOutputKind(out string) (bool, error) {
	if out == "-" {
		return false, nil
	}
	if strings.TrimSpace(out) == "" {
		return false, fmt.Errorf("flag -out: %q is a blank file name", out)
	}
	if st, err := os.Stat(out); err == nil && !st.Mode().IsRegular() { // a folder, a device: say so
		return false, fmt.Errorf("flag -out: %w", fileio.CheckOutput(out))
	}
	switch ext := strings.ToLower(filepath.Ext(out)); ext {
	case ".npy":
		return true, nil
	case ".csv":
		return false, nil
	case "":
		return false, fmt.Errorf("flag -out: %s has no extension (want FILE.csv, FILE.npy, or - for CSV on stdout)", out)
	default:
		return false, fmt.Errorf("flag -out: %s: unknown extension %s (want FILE.csv, FILE.npy, or - for CSV on stdout)", out, filepath.Ext(out))
	}
}

// mnistOnlyFlags are the common flags that mean nothing for a file basis.
var mnistOnlyFlags = []string{"rows", "relu-features", "relu-seed", "epochs", "train-rows"}

// fileLeverage computes the leverage of an npy or csv basis, streamed from the file.
func (c *common) fileLeverage(ctx context.Context, fs *flag.FlagSet, stderr io.Writer, spec basis.Spec, method leverage.Method) (*leverage.Result, leverage.Source, error) {
	var src leverage.Source
	var bad string
	fs.Visit(func(f *flag.Flag) {
		for _, name := range mnistOnlyFlags {
			if f.Name == name && bad == "" {
				bad = name
			}
		}
	})
	if bad != "" {
		return nil, src, fmt.Errorf("flag -%s: applies to MNIST bases, not to %s (a file basis uses all of the file's rows)", bad, spec)
	}
	src, err := basis.FileSource(spec)
	if err != nil {
		return nil, src, err
	}
	sel, err := backend.New(c.backend)
	if err != nil {
		return nil, src, fmt.Errorf("flag -backend: %w", err)
	}
	if sel.Note != "" {
		fmt.Fprintln(stderr, sel.Note)
	}
	bar := newProgress(stderr)
	res, err := basis.LeverageOfFile(ctx, sel.Backend, spec, leverage.Options{Method: method, Ridge: c.ridge, Progress: bar.update})
	bar.clear()
	return res, src, err
}

// leverage computes (or loads from the cache) the leverage of an MNIST basis with the -method and
// -ridge flags, and prints the summary on stderr.
func (c *common) leverage(ctx context.Context, stderr io.Writer) (*workspace.Workspace, basis.Spec, *leverage.Result, error) {
	ws, spec, method, err := c.workspace(stderr)
	if err != nil {
		return nil, spec, nil, err
	}
	start := time.Now()
	res, err := ws.Leverage(ctx, spec, leverage.Options{Method: method, Ridge: c.ridge})
	ws.Progress(progress.Report{}) // clears the bar
	if err != nil {
		return nil, spec, nil, err
	}
	printLeverage(stderr, spec, res, time.Since(start))
	return ws, spec, res, nil
}

// printLeverage writes the summary of a leverage result on stderr: the shape, rank, Σℓ, rows near 1
// and time; the rank cut-off (σ_r, the tolerance, σ_{r+1}); for ridge leverage Σℓ(λ) against the
// rank; then the warnings.
func printLeverage(w io.Writer, spec basis.Spec, res *leverage.Result, elapsed time.Duration) {
	s := sum(res.Scores)
	ridge := ""
	if res.Ridge > 0 {
		ridge = fmt.Sprintf(", ridge λ = %g", res.Ridge)
	}
	fmt.Fprintf(w, "basis %s, %d rows × %d columns, method %s%s: rank %d, Σℓ = %.6f, %d rows with ℓ > 0.99 (%.1fs)\n",
		spec, res.Rows, res.Cols, res.Method, ridge, res.Rank, s, res.NearOne, elapsed.Seconds())
	if res.Method == leverage.Exact && res.Rank > 0 {
		r, ge, le := res.Rank, "≥", "≤"
		if res.Refined {
			ge, le = "=", "="
		}
		next := fmt.Sprintf("σ_%d %s %.3g", r+1, le, res.SigmaNext)
		if r == min(res.Rows, res.Cols) {
			next = "full rank"
		}
		fmt.Fprintf(w, "  rank cut-off: σ_%d %s %.4g, tolerance %.3g, %s (σ_max = %.4g; X with columns scaled to unit norm)\n",
			r, ge, res.SigmaRank, res.Tolerance, next, res.SigmaMax)
	}
	if res.Ridge > 0 {
		fmt.Fprintf(w, "  ridge: Σℓ(λ) = Σσ²/(σ²+λ) = %.6f of rank %d\n", s, res.Rank)
	}
	for _, wr := range res.Warnings {
		fmt.Fprintf(w, "levstudy: warning: basis %s: %v\n", spec, wr)
	}
}

func sum(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v
	}
	return s
}
