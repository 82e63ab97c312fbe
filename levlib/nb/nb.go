// Package nb is the glue between levlib and GoNB notebooks: it opens a Session (backend, data, cache,
// the plan of a preset, shared with `levstudy run` so that notebooks reuse its cache), shows a live
// progress line, and displays figures and tables inline. Outside a notebook its displays are no-ops.
//
// A notebook cell then reads:
//
//	%%
//	s := must.M1(nb.Open(*flagPreset))
//	res := must.M1(s.Pixel.Leverage(s.Ctx, levlib.BasisSpec{Kind: levlib.KindRaw}, levlib.LeverageOptions{}))
//	nb.Figure(levlib.ScoreCurve(nb.Path("raw_scores.png"), res.Scores, "raw"))
package nb

import (
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/levstudy/levstudy/levlib"
	"github.com/levstudy/levstudy/levlib/backend"
)

// Session is what a notebook cell works with.
type Session struct {
	Ctx  context.Context
	Plan *levlib.StudyPlan
	// Pixel works on the preset's rows for RAW and ReLU; CNN on the preset's rows for CNN bases (with
	// the preset's training recipe).
	Pixel, CNN *levlib.Workspace
	// Backend is the backend configuration in use.
	Backend string
	// FigDir is where Path puts figures.
	FigDir string
}

// Open returns a session for a preset (quick, full, tiny; original needs weights): the backend chosen as
// by the CLI (XLA if installed, else pure Go, with a note shown), the MNIST data from the default
// folder, the default cache, and figures under out/notebook next to the notebooks' folder.
func Open(preset string, weights ...string) (*Session, error) {
	p, err := levlib.ParsePreset(preset)
	if err != nil {
		return nil, err
	}
	opts := levlib.StudyOptions{Preset: p}
	if len(weights) > 0 {
		opts.Weights = weights[0]
	}
	plan, err := levlib.Plan(opts)
	if err != nil {
		return nil, err
	}
	sel, err := backend.New("")
	if err != nil {
		return nil, err
	}
	if sel.Note != "" {
		gonbui.DisplayHTML("<small>" + html.EscapeString(sel.Note) + "</small>")
	}
	ds, err := levlib.LoadMNIST("", 0)
	if err != nil {
		return nil, err
	}
	base := &levlib.Workspace{Backend: sel.Backend, Cache: &levlib.Cache{Dir: levlib.DefaultCacheDir()}, Progress: Progress(),
		Warn: func(err error) { gonbui.DisplayHTML("<b>warning:</b> " + html.EscapeString(err.Error())) }}
	pixel, cnn := *base, *base
	pixel.Data = ds.Sample(plan.PixelTrain, plan.PixelTest)
	cnn.Data = ds.Sample(plan.CNNTrain, plan.CNNTest)
	cnn.CNNRecipe = plan.Recipe
	dir := filepath.Join(notebookDir(), "..", "out", "notebook")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Session{Ctx: context.Background(), Plan: plan, Pixel: &pixel, CNN: &cnn, Backend: sel.Config, FigDir: dir}, nil
}

// notebookDir is $GONB_DIR (the notebook's folder) or the working directory.
func notebookDir() string {
	if d := os.Getenv("GONB_DIR"); d != "" {
		return d
	}
	d, _ := os.Getwd()
	return d
}

// Path returns a path for a figure file in the session's figure folder.
func (s *Session) Path(name string) string { return filepath.Join(s.FigDir, name) }

// Progress returns a callback that keeps one live line in the cell's output ("stage: 3/10, ETA 5s").
func Progress() func(levlib.Progress) {
	id := ""
	var timer levlib.ProgressTimer
	return func(p levlib.Progress) {
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

// Figure displays the PNG file at path (the error of the function that wrote it, if any, is shown
// instead).
func Figure(path string, err error) {
	if err != nil {
		gonbui.DisplayHTML("<b>error:</b> " + html.EscapeString(err.Error()))
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		gonbui.DisplayHTML("<b>error:</b> " + html.EscapeString(err.Error()))
		return
	}
	gonbui.DisplayPNG(b)
}

// Figures displays several PNG files, skipping other formats.
func Figures(paths []string) {
	for _, p := range paths {
		if strings.HasSuffix(p, ".png") {
			Figure(p, nil)
		}
	}
}

// Table displays rows as an HTML table with a header.
func Table(header []string, rows [][]string) {
	var b strings.Builder
	b.WriteString(`<table><tr>`)
	for _, h := range header {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	gonbui.DisplayHTML(b.String())
}

// Must returns v, or panics with err: for notebook cells, where a panic shows the error and marks the
// cell as failed (the CI check of executed notebooks looks for it).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Env returns $name, or def when it is unset: notebook parameters default to it, so that CI can run a
// notebook on a small preset (LEVSTUDY_PRESET=tiny) without editing it.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Must2 is Must for functions returning two values and an error.
func Must2[T, U any](v T, u U, err error) (T, U) {
	if err != nil {
		panic(err)
	}
	return v, u
}
