// Package nb is the glue between levlib and GoNB notebooks: it opens the Study of a preset (the same
// plan, backend choice and cache as `levstudy run`, so notebooks reuse its results), gives cells a
// context that the kernel's interrupt cancels, and displays what the library's verbs return —
// figures, tables, lines of text — inline, with a live progress line. It holds no study logic: a
// cell calls levlib's packages and shows their results. Outside a notebook the displays print or do
// nothing.
//
// A notebook cell then reads:
//
//	%%
//	s := nb.Must(nb.Open(*flagPreset))
//	raw := nb.Must(s.Basis(nb.Ctx, "raw"))
//	nb.Printf("raw: rank %d, Σℓ = %.6f", raw.Leverage.Rank, raw.Leverage.Sum())
//	nb.Show(plot.DigitGrid(s.Data(), raw.Leverage.Scores, rankstat.TopK(raw.Leverage.Scores, 100), plot.GridOptions{}))
package nb

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/levstudy/levstudy/levlib"
	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/plot"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// Ctx is the context of notebook computations: the kernel's interrupt (SIGINT to the cell's program)
// cancels it, so training saves its checkpoint and a long stage stops between chunks; a second
// interrupt ends the program.
var Ctx = interruptContext()

func interruptContext() context.Context {
	c, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		<-c.Done()
		stop()
	}()
	return c
}

// backendNote is what backend.New said about the backend it chose, for ShowSetup.
var backendNote string

// Open returns the study of a preset (quick, full, tiny; original needs the folder of the original
// study's weights): the backend chosen as by the CLI (XLA if installed, else pure Go), the MNIST data
// from the default folder and the default cache. It displays nothing: ShowSetup says which backend.
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
	backendNote = sel.Note
	ds, err := mnist.Load("", 0)
	if err != nil {
		return nil, err
	}
	ws := &workspace.Workspace{Backend: sel.Backend, Data: ds, Cache: &workspace.Cache{Dir: workspace.DefaultCacheDir()}, Progress: Progress(),
		Warn: func(err error) { gonbui.DisplayHTML("<b>warning:</b> " + html.EscapeString(err.Error())) },
		Note: func(s string) { gonbui.DisplayHTML("<small>" + html.EscapeString(s) + "</small>") }}
	return levlib.NewStudy(ws, opts)
}

// ShowSetup displays, once per notebook (its first cell), the backend the study runs on, the pool of
// rows and the plan.
func ShowSetup(s *levlib.Study) {
	if backendNote != "" {
		Printf("%s", backendNote)
	}
	Printf("pool: %d training + %d test rows; %s", s.Data().NumTrain, s.Data().N()-s.Data().NumTrain, s.Plan.Description)
}

// Printf shows a line (or lines) of text. In a notebook it goes through GoNB's display channel as a
// <pre> block, so that it stays in order with the tables and figures (the program's stdout reaches
// the notebook through another pipe and may arrive after them); elsewhere it is printed. The checks
// of executed notebooks read these lines.
func Printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !gonbui.IsNotebook {
		fmt.Println(s)
		return
	}
	// A newline right after <pre> is dropped by HTML; it keeps each line at a line start in the source.
	gonbui.DisplayHTML(`<pre style="margin:0.2em 0">` + "\n" + html.EscapeString(s) + "</pre>")
}

// Show displays a figure inline as PNG; a non-nil err (from the function that drew it) panics, as
// Must does.
func Show(fig *plot.Figure, err error) {
	Check(err)
	b, err := fig.PNG()
	Check(err)
	gonbui.DisplayPNG(b)
}

// HTML displays an HTML fragment (levlib's tables) with the report's table style.
func HTML(h template.HTML) {
	gonbui.DisplayHTML(tableStyle + string(h))
}

const tableStyle = `<style>
table.bases td, table.q1 td, table.q2 td, table.controls td, table.tau td, table.effects td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
</style>`

// Progress returns a callback that keeps one live line in the cell's output ("stage: 3/10, ETA 5s").
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

// Must returns v, or panics with err: for notebook cells, where a panic shows the error and marks the
// cell as failed (the CI check of executed notebooks looks for it).
func Must[T any](v T, err error) T {
	Check(err)
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

// OutDir returns out/notebook/name beside the notebooks' folder (created): where a cell writes files,
// such as the report of Study.Run.
func OutDir(name string) string {
	dir := os.Getenv("GONB_DIR")
	if dir == "" {
		dir, _ = os.Getwd()
	}
	dir = filepath.Join(dir, "..", "out", "notebook", name)
	Check(os.MkdirAll(dir, 0o755))
	return dir
}
