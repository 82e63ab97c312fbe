// Package nb is the glue between levlib and GoNB notebooks: Open returns the levlib.Study of a preset
// (the same plan, backend choice and cache as `levstudy run`, so notebooks reuse its results), and the
// Show functions display a stage's tables and figures inline, with a live progress line. Outside a
// notebook the displays are no-ops.
//
// A notebook cell then reads:
//
//	%%
//	s := nb.Must(nb.Open(*flagPreset))
//	nb.Check(nb.ShowDigitGrids(s, *flagBases, *flagK))
package nb

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/levstudy/levstudy/levlib"
	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/plot"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// Open returns the study of a preset (quick, full, tiny; original needs weights): the backend chosen as
// by the CLI (XLA if installed, else pure Go, with a one-line note shown), the MNIST data from the
// default folder and the default cache.
func Open(preset string, weights ...string) (*levlib.Study, error) {
	p, err := levlib.ParsePreset(preset)
	if err != nil {
		return nil, err
	}
	opts := levlib.StudyOptions{Preset: p}
	if len(weights) > 0 {
		opts.Weights = weights[0]
	}
	sel, err := backend.New("")
	if err != nil {
		return nil, err
	}
	if sel.Note != "" {
		gonbui.DisplayHTML("<small>" + html.EscapeString(sel.Note) + "</small>")
	}
	ds, err := mnist.Load("", 0)
	if err != nil {
		return nil, err
	}
	ws := &workspace.Workspace{Backend: sel.Backend, Data: ds, Cache: &workspace.Cache{Dir: workspace.DefaultCacheDir()}, Progress: Progress(),
		Warn: func(err error) { gonbui.DisplayHTML("<b>warning:</b> " + html.EscapeString(err.Error())) },
		Note: func(s string) { gonbui.DisplayHTML("<small>" + html.EscapeString(s) + "</small>") }}
	return levlib.NewStudy(ws, opts)
}

// ctx is the context of notebook computations: the kernel's interrupt (SIGINT to the cell's program)
// cancels it, so training saves its checkpoint and a long stage stops between chunks.
var ctx = interruptContext()

// interruptContext returns a context cancelled by the first interrupt; a second one ends the program
// (Go's default), for steps that do not watch the context (loading MNIST, the QR method, figures).
func interruptContext() context.Context {
	c, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		<-c.Done()
		stop()
	}()
	return c
}

// FigureDir is where the notebooks' figures go: out/notebook beside the notebooks' folder.
func FigureDir() (string, error) {
	dir := filepath.Join(notebookDir(), "..", "out", "notebook")
	return dir, os.MkdirAll(dir, 0o755)
}

// notebookDir is $GONB_DIR (the notebook's folder) or the working directory.
func notebookDir() string {
	if d := os.Getenv("GONB_DIR"); d != "" {
		return d
	}
	d, _ := os.Getwd()
	return d
}

// Text shows a line (or lines) of text. In a notebook it goes through GoNB's display channel as a <pre>
// block, so that it stays in order with the tables and figures (the program's stdout reaches the
// notebook through another pipe and may arrive after them); elsewhere it is printed. The checks of
// executed notebooks read these lines.
func Text(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !gonbui.IsNotebook {
		fmt.Println(s)
		return
	}
	// A newline right after <pre> is dropped by HTML; it keeps each line at a line start in the source.
	gonbui.DisplayHTML(`<pre style="margin:0.2em 0">` + "\n" + html.EscapeString(s) + "</pre>")
}

// ShowBases displays one row per basis (rank, Σℓ, rows with ℓ > 0.99, training) and prints a line per
// basis: "raw: rank 713 of 784, Σℓ = 713.000000".
func ShowBases(s *levlib.Study) error {
	bases, err := s.Bases(ctx)
	if err != nil {
		return err
	}
	Text("pool: %d training + %d test rows; %s", s.WS.Data.NumTrain, s.WS.Data.N()-s.WS.Data.NumTrain, s.Plan.Description)
	var reports []levlib.BasisReport
	var lines []string
	for _, b := range bases {
		r := b.Report()
		reports = append(reports, r)
		lines = append(lines, fmt.Sprintf("%s: rank %d of %d, Σℓ = %.6f, %d rows with ℓ > 0.99", b.Label, r.Rank, r.Cols, r.SumScores, r.NearOne))
	}
	Text("%s", strings.Join(lines, "\n"))
	HTML(levlib.BasesTable(reports))
	return nil
}

// ShowQRArtefact compares the seed's plain QR leverage with the exact scores on the RAW basis, as the
// seed notebook's cell 2 did: Σℓ and the rows with ℓ > 0.999 under each (QR counts every column, so
// the rows of all-zero or dependent pixels get leverage ≈ 1). The QR runs once, then comes from the
// cache.
func ShowQRArtefact(s *levlib.Study) error {
	raw, err := s.Basis(ctx, "raw")
	if err != nil {
		return err
	}
	qr, err := s.WS.Leverage(ctx, raw.Spec, leverage.Options{Method: leverage.QR})
	if err != nil {
		return err
	}
	for _, r := range []*leverage.Result{raw.Leverage, qr} {
		var ones []int
		sum := 0.0
		for i, v := range r.Scores {
			sum += v
			if v > 0.999 {
				ones = append(ones, i)
			}
		}
		first := ones[:min(len(ones), 12)]
		Text("raw, method %s: Σℓ = %.3f (rank %d), %d rows with ℓ > 0.999, the first %v", r.Method, sum, r.Rank, len(ones), first)
	}
	return nil
}

// selectWithDir returns the chosen bases and the folder for their figures.
func selectWithDir(s *levlib.Study, bases string) ([]*levlib.BasisResult, string, error) {
	chosen, err := s.Select(ctx, bases)
	if err != nil {
		return nil, "", err
	}
	dir, err := FigureDir()
	return chosen, dir, err
}

// ShowScoreCurves displays the sorted leverage scores of the chosen bases ("all", or labels/families).
func ShowScoreCurves(s *levlib.Study, bases string) error {
	chosen, dir, err := selectWithDir(s, bases)
	if err != nil {
		return err
	}
	for _, b := range chosen {
		path := filepath.Join(dir, plot.FileStem(b.Label)+"_scores.png")
		if err := plot.ScoreCurve(path, b.Leverage.Scores, fmt.Sprintf("%s leverage, sorted (rank %d)", b.Label, b.Leverage.Rank)); err != nil {
			return err
		}
		PNG(path)
	}
	return nil
}

// ShowDigitGrids displays, for the chosen bases, the k highest- and lowest-leverage digits (10 columns,
// sorted by label, titled "Label: d (score)"), after a line "k = N".
func ShowDigitGrids(s *levlib.Study, bases string, k int) error {
	if k < 10 || k > 1000 || k%10 != 0 {
		return fmt.Errorf("flag -k: %d, want a multiple of 10 in 10..1000", k)
	}
	chosen, dir, err := selectWithDir(s, bases)
	if err != nil {
		return err
	}
	Text("k = %d: the %d highest- and lowest-leverage digits of %d bases", k, k, len(chosen))
	for _, b := range chosen {
		for _, g := range []struct {
			name string
			idx  []int
		}{{"highest", rankstat.TopK(b.Leverage.Scores, k)}, {"lowest", rankstat.BottomK(b.Leverage.Scores, k)}} {
			path := filepath.Join(dir, fmt.Sprintf("%s_%s%d.png", plot.FileStem(b.Label), g.name, k))
			title := fmt.Sprintf("%s: the %d %s-leverage digits, by label", b.Label, k, g.name)
			if err := plot.DigitGrid(path, s.WS.Data, b.Leverage.Scores, g.idx, plot.GridOptions{Title: title}); err != nil {
				return err
			}
			PNG(path)
		}
	}
	return nil
}

// ShowQ1 runs (or reads from the cache) Question 1 and displays, per classifier, the pivoted table and
// the accuracy figures; it prints the top-k and random test accuracy per family at each k.
func ShowQ1(s *levlib.Study) error {
	q, err := s.Q1(ctx)
	if err != nil {
		return err
	}
	dir, err := FigureDir()
	if err != nil {
		return err
	}
	fam := q.ByFamily()
	var lines []string
	for _, f := range fam {
		if f.Strategy == q1.StrategyTop || f.Strategy == q1.StrategyRandom {
			lines = append(lines, fmt.Sprintf("Q1 %s %s k=%d %s: test accuracy %.4f (train %.4f)", f.Family, f.Strategy, f.K, f.Classifier, f.Test.Mean, f.Train.Mean))
		}
	}
	Text("%s", strings.Join(lines, "\n"))
	for _, cl := range q1.Classifiers() {
		if _, ok := firstOf(fam, cl); !ok {
			continue
		}
		HTML(template.HTML("<h4>" + string(cl) + " classifier</h4><p><small>" + html.EscapeString(q.Protocol[string(cl)]) + "</small></p>"))
		HTML(q1.Table(q, cl))
	}
	files, err := q1.Figures(dir, q)
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".png") {
			PNG(f)
		}
	}
	return nil
}

func firstOf(fam []q1.Summary, cl q1.Classifier) (q1.Summary, bool) {
	for _, f := range fam {
		if f.Classifier == cl {
			return f, true
		}
	}
	return q1.Summary{}, false
}

// ShowQ2 computes Question 2 and displays the family table, the tau-b matrix, the controls and the
// figures; it prints tau-b within each family.
func ShowQ2(s *levlib.Study) error {
	dir, err := FigureDir()
	if err != nil {
		return err
	}
	q, err := s.Q2(ctx, filepath.Join(dir, "q2"))
	if err != nil {
		return err
	}
	var lines []string
	for _, g := range q.Summaries {
		if g.Statistic == "kendall_tau_b" && g.GroupA == g.GroupB {
			lines = append(lines, fmt.Sprintf("Q2 tau-b within %s: mean %.3f (%d pairs; null sd %.4f)", g.GroupA, g.Mean, g.Pairs, q.NullSD))
		}
	}
	lines = append(lines, fmt.Sprintf("Under random permutation tau-b is 0 ± %.4f (SD); %s.", q.NullSD, q.NullBand.Describe()))
	Text("%s", strings.Join(lines, "\n"))
	HTML(q2.GroupTable(q))
	HTML(q2.TauMatrix(q))
	HTML(q2.ControlsTable(q))
	for _, f := range q.Figures {
		if strings.HasSuffix(f, ".png") {
			PNG(f)
		}
	}
	return nil
}

// ShowFindings runs every stage (from the cache where possible) and displays the findings sentences.
func ShowFindings(s *levlib.Study) error {
	dir, err := FigureDir()
	if err != nil {
		return err
	}
	res, err := s.Run(ctx, filepath.Join(dir, "study"), nil)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(`<ul class="findings">`)
	for _, f := range res.Findings { // the report's list without its links to the report's sections
		fmt.Fprintf(&b, "<li>%s</li>", html.EscapeString(f.Text))
	}
	b.WriteString("</ul>")
	HTML(template.HTML(b.String()))
	Text("report: %s", res.ReportPath)
	return nil
}

// progress.Report returns a callback that keeps one live line in the cell's output ("stage: 3/10, ETA 5s").
func Progress() func(progress.Report) {
	id := ""
	var timer progress.Timer
	return func(p progress.Report) {
		if !gonbui.IsNotebook || p.Total <= 0 {
			return
		}
		if id == "" {
			id = "levstudy-progress-" + gonbui.UniqueID()
		}
		eta := ""
		if _, left, ok := timer.Observe(p, time.Now()); ok && p.Done < p.Total {
			eta = fmt.Sprintf(", ETA %s", left.Round(time.Second))
		}
		gonbui.UpdateHTML(id, fmt.Sprintf("<small>%s: %d/%d%s</small>", html.EscapeString(p.Stage), p.Done, p.Total, eta))
	}
}

// PNG displays the PNG file at path (an error reading it is shown instead).
func PNG(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		gonbui.DisplayHTML("<b>error:</b> " + html.EscapeString(err.Error()))
		return
	}
	gonbui.DisplayPNG(b)
}

// HTML displays an HTML fragment (levlib's tables) with the report's table style.
func HTML(h template.HTML) {
	gonbui.DisplayHTML(tableStyle + string(h))
}

const tableStyle = `<style>
table.bases td, table.q1 td, table.q2 td, table.controls td, table.tau td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
</style>`

// Must returns v, or panics with err: for notebook cells, where a panic shows the error and marks the
// cell as failed (the CI check of executed notebooks looks for it).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Check panics with err if it is not nil (see Must).
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Env returns $name, or def when it is unset: notebook parameters default to it, so that CI can run a
// notebook on a small preset (LEVSTUDY_PRESET=tiny) without editing it.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
