package levlib

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/levstudy/levstudy/levlib/internal/buildinfo"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/plot"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// BasisReport describes one basis in the report and results.json.
type BasisReport struct {
	Label     string   `json:"label"`
	Family    string   `json:"family"`
	Spec      string   `json:"spec"`
	Rows      int      `json:"rows"`
	Cols      int      `json:"cols"`
	Rank      int      `json:"rank"`
	SumScores float64  `json:"sum_leverage"`
	MaxScore  float64  `json:"max_leverage"`
	NearOne   int      `json:"near_one"`
	Tolerance float64  `json:"tolerance"`
	SigmaRank float64  `json:"sigma_rank"`
	SigmaNext float64  `json:"sigma_next"`
	Refined   bool     `json:"refined"`
	Warnings  []string `json:"warnings,omitempty"`
	// Figures are the score curve and the top/bottom digit grids (PNG; SVG beside them).
	Figures   []string               `json:"figures"`
	Manifest  *workspace.CNNManifest `json:"cnn,omitempty"`
	TrainedOn string                 `json:"trained_on,omitempty"`
}

// StageTime records how long a stage took.
type StageTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// StudyResult is everything Study.Run produced; results.json is its JSON.
type StudyResult struct {
	Plan       *StudyPlan        `json:"plan"`
	Backend    string            `json:"backend"`
	Versions   map[string]string `json:"versions"`
	DataSHA256 map[string]string `json:"data_sha256"`
	Started    string            `json:"started"`
	Stages     []StageTime       `json:"stages"`
	Bases      []BasisReport     `json:"bases"`
	Q1         *q1.Result        `json:"q1"`
	Q1Figures  []string          `json:"q1_figures"`
	Q2         *q2.Result        `json:"q2"`
	Q2Figures  []string          `json:"q2_figures"`
	Findings   []Finding         `json:"findings"`
	Warnings   []string          `json:"warnings,omitempty"`
	ReportPath string            `json:"report"`
}

// Run runs every stage of the study — bases and their figures, Question 1, Question 2 — and writes the
// report (report.html, results.json, q1/, q2/, figures/) to outDir. stage, if not nil, is called as each
// stage starts. Every expensive step is cached, so an interrupted run resumes where it stopped.
func (s *Study) Run(ctx context.Context, outDir string, stage func(name string)) (*StudyResult, error) {
	figDir := filepath.Join(outDir, "figures")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return nil, err
	}
	res := &StudyResult{Plan: s.Plan, Backend: s.WS.Backend.Name(), Versions: buildinfo.Versions(), DataSHA256: s.WS.Data.SHA256,
		Started: time.Now().UTC().Format(time.RFC3339)}
	run := func(name string, f func() error) error {
		if stage != nil {
			stage(name)
		}
		start := time.Now()
		err := f()
		res.Stages = append(res.Stages, StageTime{name, time.Since(start).Seconds()})
		return err
	}
	if err := run("bases: build, train, embed, leverage, figures", func() error {
		bases, err := s.Bases(ctx)
		if err != nil {
			return err
		}
		for _, b := range bases {
			br, err := s.basisReport(b, figDir)
			if err != nil {
				return err
			}
			res.Bases = append(res.Bases, br)
			for _, w := range br.Warnings {
				res.Warnings = append(res.Warnings, b.Label+": "+w)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := run("Q1: train on selected rows", func() error {
		r1, err := s.Q1(ctx)
		if err != nil {
			return err
		}
		res.Q1 = r1
		if err := q1.Write(filepath.Join(outDir, "q1"), r1); err != nil {
			return err
		}
		res.Q1Figures, err = q1.WriteFigures(figDir, r1)
		return err
	}); err != nil {
		return nil, err
	}
	if err := run("Q2: rank statistics and controls", func() error {
		r2, err := s.Q2(ctx)
		if err != nil {
			return err
		}
		if res.Q2Figures, err = q2.WriteFigures(filepath.Join(figDir, "q2"), r2, s.WS.Data, 0); err != nil {
			return err
		}
		res.Q2 = r2
		return q2.Write(filepath.Join(outDir, "q2"), r2)
	}); err != nil {
		return nil, err
	}
	res.Findings = Findings(res)
	if err := run("report", func() error { return WriteReport(outDir, res) }); err != nil {
		return nil, err
	}
	return res, nil
}

// Reports summarizes bases for BasesTable (Figures left empty).
func Reports(bases []*BasisResult) []BasisReport {
	out := make([]BasisReport, len(bases))
	for i, b := range bases {
		out[i] = b.Report()
	}
	return out
}

// Report summarizes a basis for the report's and the notebooks' tables (Figures left empty).
func (b *BasisResult) Report() BasisReport {
	lev := b.Leverage
	br := BasisReport{Label: b.Label, Family: b.Family, Spec: b.Name, Rows: len(lev.Scores), Cols: lev.Cols, Rank: lev.Rank,
		SumScores: xslices.Sum(lev.Scores), NearOne: lev.NearOne, Tolerance: lev.Tolerance, SigmaRank: lev.SigmaRank,
		SigmaNext: lev.SigmaNext, Refined: lev.Refined, Manifest: b.Manifest, TrainedOn: b.TrainedOn}
	for _, v := range lev.Scores {
		br.MaxScore = max(br.MaxScore, v)
	}
	for _, w := range lev.Warnings {
		br.Warnings = append(br.Warnings, w.Error())
	}
	return br
}

// basisReport summarizes a basis and draws its figures: the sorted scores and the 300 highest- and
// lowest-leverage digits.
func (s *Study) basisReport(b *BasisResult, figDir string) (BasisReport, error) {
	br := b.Report()
	files, err := BasisFigures(figDir, s.WS.Data, b, 300)
	if err != nil {
		return br, err
	}
	for _, f := range files {
		if filepath.Ext(f) == ".png" {
			br.Figures = append(br.Figures, f)
		}
	}
	return br, nil
}

// BasisFigures draws a basis's sorted-score curve and its k highest- and lowest-leverage digits (10
// columns, sorted by label, each titled "label (score)"), as PNG and SVG in dir, and returns the files.
func BasisFigures(dir string, ds *mnist.Dataset, b *BasisResult, k int) ([]string, error) {
	stem := filepath.Join(dir, plot.FileStem(b.Label))
	lev := b.Leverage
	tied, _, err := rankstat.TieWithin(lev.Scores, rankstat.DefaultTieTolerance) // top and bottom as every ranking
	if err != nil {
		return nil, fmt.Errorf("basis %s: %w", b.Label, err)
	}
	figs := []struct {
		stem string
		draw func() (*plot.Figure, error)
	}{
		{stem + "_scores", func() (*plot.Figure, error) {
			return plot.ScoreCurve(lev.Scores, fmt.Sprintf("%s leverage, sorted (rank %d, N = %d)", b.Label, lev.Rank, len(lev.Scores)))
		}},
		{fmt.Sprintf("%s_top%d", stem, k), func() (*plot.Figure, error) {
			return plot.DigitGrid(ds, lev.Scores, rankstat.TopK(tied, k), plot.GridOptions{Title: fmt.Sprintf("%s: the %d highest-leverage digits, by label", b.Label, k)})
		}},
		{fmt.Sprintf("%s_bottom%d", stem, k), func() (*plot.Figure, error) {
			return plot.DigitGrid(ds, lev.Scores, rankstat.BottomK(tied, k), plot.GridOptions{Title: fmt.Sprintf("%s: the %d lowest-leverage digits, by label", b.Label, k)})
		}},
	}
	var files []string
	for _, f := range figs {
		fig, err := f.draw()
		if err != nil {
			return files, err
		}
		paths, err := fig.SaveAll(f.stem, ".png", ".svg")
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}
