package levlib

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Preset names a configuration of the whole study.
type Preset string

// The presets of RunStudy.
const (
	// PresetTiny is for tests and CI: a few thousand rows, four barely trained networks (about a minute).
	PresetTiny Preset = "tiny"
	// PresetQuick shows every part of the study on real MNIST in under 15 minutes on 2 CPU cores:
	// RAW and ReLU on all 70,000 rows; CNNs A1, A2, B1, B2 (trained 1 epoch on 6,000 images), C1, C2 on
	// 8,000 training + 2,000 test rows; Q1 with the linear classifier on a short k grid.
	PresetQuick Preset = "quick"
	// PresetFull is the seed's study as written: 70,000 rows, A/B/C × 5 inits, 5 epochs, Q1 with
	// linear and ridge over the default k grid, Q2 over all 17 bases. Hours on CPU; resumable.
	PresetFull Preset = "full"
	// PresetOriginal is PresetFull with the original study's 15 networks (.pth) instead of training.
	PresetOriginal Preset = "original"
)

// ParsePreset parses a preset name.
func ParsePreset(s string) (Preset, error) {
	switch p := Preset(s); p {
	case PresetTiny, PresetQuick, PresetFull, PresetOriginal:
		return p, nil
	}
	return "", fmt.Errorf("unknown preset %q (want quick, full, original or tiny)", s)
}

// StudyOptions configures RunStudy.
type StudyOptions struct {
	Preset Preset
	// OutDir receives report.html, results.json, the CSVs and figures/.
	OutDir string
	// Weights is the folder of the original study's .pth files (PresetOriginal).
	Weights string
	// CNNClassifier adds the cnn classifier to Q1 (slow on CPU).
	CNNClassifier bool
	// Stage, if not nil, is called when a stage starts.
	Stage func(name string)
}

// StudyPlan is what a preset runs.
type StudyPlan struct {
	Preset Preset `json:"preset"`
	// Pixel bases (raw, relu) on PixelRows: train and test rows.
	PixelTrain, PixelTest int
	// CNN bases on CNNTrain/CNNTest rows, trained with Recipe.
	CNNTrain, CNNTest int
	CNNs              []BasisSpec
	Recipe            CNNTrainOptions
	Q1                Q1Options
	Q1CNNBases        int // how many CNN bases also get Q1
	Description       string
}

// Plan returns the plan of a preset.
func Plan(opts StudyOptions) (*StudyPlan, error) {
	p := &StudyPlan{Preset: opts.Preset, PixelTrain: NumTrain, PixelTest: NumTest, CNNTrain: NumTrain, CNNTest: NumTest}
	cnns := func(groups string, inits int) {
		for _, g := range groups {
			for i := 1; i <= inits; i++ {
				p.CNNs = append(p.CNNs, BasisSpec{Kind: KindCNN, Group: Group(g), Seed: uint64(i)})
			}
		}
	}
	switch opts.Preset {
	case PresetTiny:
		p.PixelTrain, p.PixelTest, p.CNNTrain, p.CNNTest = 2000, 500, 1500, 500
		cnns("ABC", 1)
		p.CNNs = append(p.CNNs, BasisSpec{Kind: KindCNN, Group: GroupC, Seed: 2})
		p.Recipe = CNNTrainOptions{Epochs: 1, TrainRows: 256, EvalRows: 200}
		p.Q1 = Q1Options{K: []int{50, 200}, RandomSeeds: 2, Linear: LinearOptions{Steps: 100}}
		p.Q1CNNBases = 1
		p.Description = "tiny: 2,000+500 rows for RAW/ReLU, 1,500+500 for four CNNs trained 1 epoch on 256 images; for tests"
	case PresetQuick, "":
		p.Preset = PresetQuick
		p.CNNTrain, p.CNNTest = 8000, 2000
		cnns("ABC", 2)
		p.Recipe = CNNTrainOptions{Epochs: 1, TrainRows: 6000, EvalRows: 2000}
		// Measured: with k up to 2000 the whole preset took 15.6 min on 2 cores (a k = 2000 linear fit
		// takes 18 s); k up to 1000 keeps it under 15.
		p.Q1 = Q1Options{K: []int{100, 300, 1000}, RandomSeeds: 3}
		p.Q1CNNBases = 1
		p.Description = "quick: RAW and ReLU on all 70,000 rows; CNNs A1, A2, B1, B2 (1 epoch on 6,000 training images) and C1, C2 on 8,000 training + 2,000 test rows; Q1 linear classifier, k = 100, 300, 1000, 3 random seeds"
	case PresetFull:
		cnns("ABC", 5)
		p.Recipe = CNNTrainOptions{Epochs: 5}
		p.Q1 = Q1Options{Classifiers: []Classifier{ClassifierLinear, ClassifierRidge}}
		p.Q1CNNBases = len(p.CNNs)
		p.Description = "full: the seed's study: 70,000 rows, A/B/C × 5 inits trained 5 epochs, Q1 linear and ridge over the full k grid with 5 random seeds, Q2 over all 17 bases"
	case PresetOriginal:
		files, err := filepath.Glob(filepath.Join(opts.Weights, "mnist-cnn-*.pth"))
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("preset original: no mnist-cnn-*.pth files in -weights %q", opts.Weights)
		}
		sort.Strings(files)
		for _, f := range files {
			p.CNNs = append(p.CNNs, BasisSpec{Kind: KindTorch, Path: f})
		}
		p.Q1 = Q1Options{Classifiers: []Classifier{ClassifierLinear, ClassifierRidge}}
		p.Q1CNNBases = len(p.CNNs)
		p.Description = fmt.Sprintf("original: the original study's %d networks from %s on all 70,000 rows; Q1 linear and ridge; Q2 over all bases", len(files), opts.Weights)
	default:
		return nil, fmt.Errorf("unknown preset %q", opts.Preset)
	}
	if opts.CNNClassifier {
		p.Q1.Classifiers = append(p.Q1.Classifiers, ClassifierCNN)
		if len(p.Q1.Classifiers) == 1 {
			p.Q1.Classifiers = []Classifier{ClassifierLinear, ClassifierCNN}
		}
	}
	return p, nil
}

// BasisReport describes one basis in the report.
type BasisReport struct {
	Label     string       `json:"label"`
	Spec      string       `json:"spec"`
	Rows      int          `json:"rows"`
	Cols      int          `json:"cols"`
	Rank      int          `json:"rank"`
	Refined   bool         `json:"refined"`
	SumScores float64      `json:"sum_leverage"`
	MaxScore  float64      `json:"max_leverage"`
	Warnings  []string     `json:"warnings,omitempty"`
	Figures   []string     `json:"figures"`
	Manifest  *CNNManifest `json:"cnn,omitempty"`
}

// StageTime records how long a stage took.
type StageTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// StudyResult is everything RunStudy produced.
type StudyResult struct {
	Plan       *StudyPlan        `json:"plan"`
	Backend    string            `json:"backend"`
	Versions   map[string]string `json:"versions"`
	DataSHA256 map[string]string `json:"data_sha256"`
	Started    string            `json:"started"`
	Stages     []StageTime       `json:"stages"`
	Bases      []BasisReport     `json:"bases"`
	Q1         *Q1Result         `json:"q1"`
	Q1Figures  []string          `json:"q1_figures"`
	Q2Pixel    *Q2Result         `json:"q2_pixel"`
	Q2CNN      *Q2Result         `json:"q2_cnn"`
	Warnings   []string          `json:"warnings,omitempty"`
	ReportPath string            `json:"report"`
}

// RunStudy runs a preset of the whole study with ws's backend, data (all 70,000 rows) and cache, and
// writes the report and machine-readable outputs to opts.OutDir. Every expensive step is cached, so an
// interrupted run resumes where it stopped.
func RunStudy(ctx context.Context, ws *Workspace, opts StudyOptions) (*StudyResult, error) {
	plan, err := Plan(opts)
	if err != nil {
		return nil, err
	}
	if ws.Data.NumTrain < plan.PixelTrain || ws.Data.N()-ws.Data.NumTrain < plan.PixelTest {
		return nil, fmt.Errorf("preset %s needs %d training and %d test rows; the data has %d and %d", plan.Preset,
			plan.PixelTrain, plan.PixelTest, ws.Data.NumTrain, ws.Data.N()-ws.Data.NumTrain)
	}
	figDir := filepath.Join(opts.OutDir, "figures")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return nil, err
	}
	res := &StudyResult{Plan: plan, Backend: ws.Backend.Name(), Versions: moduleVersions(), DataSHA256: ws.Data.SHA256,
		Started: time.Now().UTC().Format(time.RFC3339)}
	stage := func(name string, f func() error) error {
		if opts.Stage != nil {
			opts.Stage(name)
		}
		start := time.Now()
		err := f()
		res.Stages = append(res.Stages, StageTime{name, time.Since(start).Seconds()})
		return err
	}
	pixel := *ws
	pixel.Data = ws.Data.Sample(plan.PixelTrain, plan.PixelTest)
	cnn := *ws
	cnn.Data = ws.Data.Sample(plan.CNNTrain, plan.CNNTest)
	cnn.CNNRecipe = plan.Recipe
	pixelBases := []BasisSpec{{Kind: KindRaw}, {Kind: KindReLU, Features: ImagePixels, Seed: 1}}

	describe := func(w *Workspace, spec BasisSpec) error {
		label, _ := BasisLabel(spec)
		lev, err := w.Leverage(ctx, spec, LeverageOptions{})
		if err != nil {
			return err
		}
		br := BasisReport{Label: label, Spec: spec.String(), Rows: w.Data.N(), Rank: lev.Rank, Refined: lev.Refined,
			SumScores: sumFloats(lev.Scores), Cols: lev.Cols}
		for _, s := range lev.Scores {
			br.MaxScore = max(br.MaxScore, s)
		}
		for _, wr := range lev.Warnings {
			br.Warnings = append(br.Warnings, wr.Error())
		}
		if spec.Kind == KindCNN {
			_, m, err := w.CNN(ctx, spec.Group, spec.Seed)
			if err != nil {
				return err
			}
			br.Manifest = m
		}
		stem := fileStem(label)
		for _, f := range []struct {
			name string
			draw func(path string) error
		}{
			{stem + "_scores.png", func(p string) error {
				return ScoreCurve(p, lev.Scores, fmt.Sprintf("%s leverage (rank %d, N = %d)", label, lev.Rank, w.Data.N()))
			}},
			{stem + "_top300.png", func(p string) error {
				return DigitGrid(p, w.Data, lev.Scores, TopK(lev.Scores, 300), GridOptions{Title: label + ": the 300 highest-leverage digits, sorted by label"})
			}},
			{stem + "_bottom300.png", func(p string) error {
				return DigitGrid(p, w.Data, lev.Scores, BottomK(lev.Scores, 300), GridOptions{Title: label + ": the 300 lowest-leverage digits, sorted by label"})
			}},
		} {
			path := filepath.Join(figDir, f.name)
			if err := f.draw(path); err != nil {
				return err
			}
			br.Figures = append(br.Figures, path)
		}
		res.Bases = append(res.Bases, br)
		return nil
	}
	if err := stage("pixel bases: leverage and figures", func() error {
		for _, spec := range pixelBases {
			if err := describe(&pixel, spec); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := stage("CNN bases: train, embed, leverage", func() error {
		for _, spec := range plan.CNNs {
			if err := describe(&cnn, spec); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := stage("Q1: train on selected rows", func() error {
		q1, err := Q1(ctx, &pixel, pixelBases, plan.Q1)
		if err != nil {
			return err
		}
		if n := min(plan.Q1CNNBases, len(plan.CNNs)); n > 0 {
			q1c, err := Q1(ctx, &cnn, plan.CNNs[:n], plan.Q1)
			if err != nil {
				return err
			}
			q1.Rows = append(q1.Rows, q1c.Rows...)
			for k, v := range q1c.Ranks {
				q1.Ranks[k] = v
			}
			q1.Protocol["cnn_rows"] = fmt.Sprintf("CNN bases: %d training and %d test rows", cnn.Data.NumTrain, cnn.Data.N()-cnn.Data.NumTrain)
		}
		res.Q1 = q1
		if err := WriteQ1(filepath.Join(opts.OutDir, "q1"), q1); err != nil {
			return err
		}
		res.Q1Figures, err = Q1Figures(figDir, q1)
		return err
	}); err != nil {
		return nil, err
	}
	if err := stage("Q2: rank statistics", func() error {
		q2p, err := Q2(ctx, &pixel, pixelBases, Q2Options{K: q2K(pixel.Data.N()), FigureDir: filepath.Join(figDir, "q2_pixel")})
		if err != nil {
			return err
		}
		res.Q2Pixel = q2p
		if err := WriteQ2(filepath.Join(opts.OutDir, "q2_pixel"), q2p); err != nil {
			return err
		}
		all := append(append([]BasisSpec{}, pixelBases...), plan.CNNs...)
		q2c, err := Q2(ctx, &cnn, all, Q2Options{K: q2K(cnn.Data.N()), FigureDir: filepath.Join(figDir, "q2")})
		if err != nil {
			return err
		}
		res.Q2CNN = q2c
		return WriteQ2(filepath.Join(opts.OutDir, "q2"), q2c)
	}); err != nil {
		return nil, err
	}
	for _, b := range res.Bases {
		for _, w := range b.Warnings {
			res.Warnings = append(res.Warnings, b.Label+": "+w)
		}
	}
	if err := stage("report", func() error { return WriteStudyReport(opts.OutDir, res) }); err != nil {
		return nil, err
	}
	return res, nil
}

// q2K is the overlap grid for n rows: powers of 10 and their halves up to n/2.
func q2K(n int) []int {
	var ks []int
	for _, k := range []int{10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000} {
		if k <= n/2 {
			ks = append(ks, k)
		}
	}
	return ks
}
