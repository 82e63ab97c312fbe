package levlib

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// Preset names a configuration of the whole study.
type Preset string

// The presets of a Study.
const (
	// PresetTiny is for tests and CI: 2,000 + 500 rows, four barely trained networks (about a minute).
	PresetTiny Preset = "tiny"
	// PresetQuick is make run: every part of the study on all 70,000 rows in about ten minutes on 2 CPU
	// cores (see Plan for what it covers).
	PresetQuick Preset = "quick"
	// PresetFull is the seed's study as written: A/B/C × 5 inits trained 5 epochs, five random-feature
	// bases, Question 1 with the CNN classifier over the original k grid.
	PresetFull Preset = "full"
	// PresetOriginal is PresetFull with the original study's 15 networks (.pth) instead of training.
	PresetOriginal Preset = "original"
)

// presets lists the presets.
var presets = []Preset{PresetTiny, PresetQuick, PresetFull, PresetOriginal}

// ParsePreset parses a preset name.
func ParsePreset(s string) (Preset, error) {
	if p := Preset(s); slices.Contains(presets, p) {
		return p, nil
	}
	return "", fmt.Errorf("unknown preset %q (want quick, full, original or tiny)", s)
}

// StudyOptions chooses a plan.
type StudyOptions struct {
	Preset Preset
	// Weights is the folder of the original study's .pth files (PresetOriginal).
	Weights string
	// SelectOn, if set, replaces the plan's q1.Options.SelectOn (q1.SelectOnPool or q1.SelectOnTrain).
	SelectOn string
}

// StudyPlan is what a study runs: one pool of rows on which every basis is computed (selection happens
// among its training rows), the bases, how CNN bases are trained, and the two questions' options.
type StudyPlan struct {
	Preset Preset `json:"preset"`
	// TrainRows and TestRows are the pool: the first TrainRows training and TestRows test images.
	TrainRows int          `json:"train_rows"`
	TestRows  int          `json:"test_rows"`
	Bases     []basis.Spec `json:"bases"`
	// Recipe trains the cnn bases on the first Recipe.TrainRows of the pool's training rows (0: all).
	Recipe      cnn.TrainOptions `json:"cnn_recipe"`
	Q1          q1.Options       `json:"q1"`
	Q2          q2.Options       `json:"q2"`
	Description string           `json:"description"`
}

// Plan returns the plan of a preset.
func Plan(opts StudyOptions) (*StudyPlan, error) {
	p := &StudyPlan{Preset: opts.Preset, TrainRows: mnist.NumTrain, TestRows: mnist.NumTest}
	add := func(families string, inits int) {
		for _, f := range families {
			for i := 1; i <= inits; i++ {
				p.Bases = append(p.Bases, basis.Spec{Kind: basis.KindCNN, Group: cnn.Group(f), Seed: uint64(i)})
			}
		}
	}
	// pixel adds RAW and the random-basis controls: ReLU features of RAW's width (784) and of the
	// networks' (200), so that each family is compared with random features of its own dimension.
	pixel := func(reluSeeds int) {
		p.Bases = append(p.Bases, basis.Spec{Kind: basis.KindRaw})
		for _, f := range []int{mnist.ImagePixels, cnn.EmbeddingDim} {
			for s := 1; s <= reluSeeds; s++ {
				p.Bases = append(p.Bases, basis.Spec{Kind: basis.KindReLU, Features: f, Seed: uint64(s)})
			}
		}
	}
	ridge := []float64{1e-6, 1e-4, 1e-2}
	switch opts.Preset {
	case PresetTiny:
		p.TrainRows, p.TestRows = 2000, 500
		pixel(2)
		add("ABC", 1)
		p.Bases = append(p.Bases, basis.Spec{Kind: basis.KindCNN, Group: cnn.GroupC, Seed: 2})
		p.Recipe = cnn.TrainOptions{Epochs: 1, TrainRows: 256, EvalRows: 200}
		p.Q1 = q1.Options{Grids: []q1.Grid{
			{Classifier: q1.ClassifierLinear, K: []int{50, 200}},
			{Classifier: q1.ClassifierCNN, K: []int{200}, Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyRandom}},
		}, Seeds: 3, Linear: q1.LinearOptions{Steps: 100}, CNN: cnn.TrainOptions{Steps: 20}}
		p.Q2 = q2.Options{Shuffles: 100, RidgeRel: []float64{1e-4, 1e-2}, RidgeK: 100}
		p.Description = "tiny (tests and CI): 2,000 + 500 rows; RAW, ReLU features (784 and 200, seeds 1–2), CNNs A1, B1 (1 epoch on 256 images), C1, C2"
	case PresetQuick, "":
		p.Preset = PresetQuick
		pixel(3)
		add("ABC", 3)
		p.Recipe = cnn.TrainOptions{Epochs: 1, TrainRows: 20000, EvalRows: 2000}
		// Sized to under 10 minutes on 2 cores (see the README's "Speed"; measured: a linear fit at
		// k = 1000 takes 0.10 s in a batch with the float32 host step, 0.24 s as a float32 graph,
		// 0.37 s in float64; a cnn fit of 150 steps 4.7 s): the linear classifier, cheap in batches,
		// on every basis; the cnn classifier on RAW and the first init of each network family.
		p.Q1 = q1.Options{Grids: []q1.Grid{
			{Classifier: q1.ClassifierLinear, K: []int{300, 1000}},
			{Classifier: q1.ClassifierCNN, K: []int{1000}, Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyBottom, q1.StrategyRandom},
				Bases: []string{"raw", "A1", "B1", "C1"}},
		}, Seeds: 5, TrainEvalRows: 5000, CNN: cnn.TrainOptions{Steps: 120}}
		p.Q2 = q2.Options{RidgeRel: []float64{1e-6, 1e-3}}
		p.Description = "quick (make run): all 70,000 rows; RAW, ReLU features (784 and 200, seeds 1–3), CNNs A1–A3, B1–B3 (1 epoch on 20,000 training images), C1–C3; " +
			"Q1 with 5 seeds: the linear classifier on every basis (every strategy, k = 300, 1000), the CNN classifier on raw, A1, B1, C1 (top, bottom, random, k = 1000, 120 steps)"
	case PresetFull:
		pixel(5)
		add("ABC", 5)
		p.Recipe = cnn.TrainOptions{Epochs: 5}
		p.Q1 = fullQ1("")
		p.Q2 = q2.Options{Shuffles: 1000, RidgeRel: ridge}
		p.Description = "full (the seed's study): all 70,000 rows; RAW, ReLU features (784 and 200, seeds 1–5), A/B/C × 5 inits trained 5 epochs on all 60,000 training images; " +
			"Q1 with 5 seeds over k = 1,000 … 50,000: the linear classifier with every strategy (every basis up to k = 5,000, one basis per family beyond), " +
			"the CNN classifier (300 steps) with top, bottom and random on RAW, A1, B1, C1"
	case PresetOriginal:
		files, err := filepath.Glob(filepath.Join(opts.Weights, "mnist-cnn-*.pth"))
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("preset original: no mnist-cnn-*.pth files in -weights %q", opts.Weights)
		}
		sort.Strings(files)
		pixel(5)
		for _, f := range files {
			p.Bases = append(p.Bases, basis.Spec{Kind: basis.KindTorch, Path: f})
		}
		p.Q1 = fullQ1("orig-")
		p.Q2 = q2.Options{Shuffles: 1000, RidgeRel: ridge}
		p.Description = fmt.Sprintf("original: the original study's %d networks from %s; RAW, ReLU features (784 and 200, seeds 1–5); all 70,000 rows; Q1 and Q2 as in full", len(files), opts.Weights)
	default:
		return nil, fmt.Errorf("unknown preset %q", opts.Preset)
	}
	if opts.SelectOn != "" {
		if opts.SelectOn != q1.SelectOnPool && opts.SelectOn != q1.SelectOnTrain {
			return nil, fmt.Errorf("select on %q, want %s or %s", opts.SelectOn, q1.SelectOnPool, q1.SelectOnTrain)
		}
		p.Q1.SelectOn = opts.SelectOn
	}
	return p, nil
}

// fullQ1 is Question 1 of the full preset, sized to about an hour on 2 cores (measured per fit on 2
// cores: linear 0.10 s at k = 1000, 9.7 s at 50,000 with the float32 host step; cnn 300 steps
// 7.9–12.5 s with its evaluation; 58 min in all): the seed's k grid with 5 seeds; the linear classifier
// with every strategy on every basis up to k = 5,000 and on RAW, one ReLU basis of each width and the
// first init of each family beyond; the cnn classifier with top, bottom and random on RAW and the first
// init of each family. Network labels start with prefix ("orig-" for the original study's networks).
func fullQ1(prefix string) q1.Options {
	few := []string{"raw", "relu1", "relu200-1", prefix + "A1", prefix + "B1", prefix + "C1"}
	return q1.Options{Grids: []q1.Grid{
		{Classifier: q1.ClassifierLinear, K: []int{1000, 2000, 5000}},
		{Classifier: q1.ClassifierLinear, K: []int{10000, 20000, 50000}, Bases: few},
		{Classifier: q1.ClassifierCNN, K: q1.DefaultK(), Strategies: []q1.Strategy{q1.StrategyTop, q1.StrategyBottom, q1.StrategyRandom},
			Bases: []string{"raw", prefix + "A1", prefix + "B1", prefix + "C1"}},
	}, Seeds: 5, TrainEvalRows: 10000, CNN: cnn.TrainOptions{Steps: 300}}
}

// BasisResult is one basis of a study: its leverage on the pool and, for a trained network, how it was
// trained and on which rows.
type BasisResult struct {
	Spec     basis.Spec             `json:"-"`
	Label    string                 `json:"label"`
	Family   string                 `json:"family"`
	Name     string                 `json:"spec"`
	Leverage *leverage.Result       `json:"-"`
	Manifest *workspace.CNNManifest `json:"cnn,omitempty"`
	// TrainedOn states which pool rows a trained network saw (empty for other bases).
	TrainedOn string `json:"trained_on,omitempty"`
}

// Study is one run of the study: its plan, and a workspace (backend, cache, progress) whose data is the
// plan's pool. Each stage is a method; expensive results are cached on disk, and the study remembers
// what it computed, so a notebook cell that asks again is fast. levstudy run, levlib/nb and the
// notebooks all drive a Study.
type Study struct {
	Plan *StudyPlan
	// WS is the pool's workspace (Data is the pool, CNNRecipe the plan's recipe).
	WS    *workspace.Workspace
	bases []*BasisResult
	q1    *q1.Result
	q2    *q2.Result
}

// NewStudy returns the study of a preset on ws's backend, cache and progress, with ws.Data the whole
// MNIST set (mnist.Load): the pool is its first TrainRows training and TestRows test rows.
func NewStudy(ws *workspace.Workspace, opts StudyOptions) (*Study, error) {
	plan, err := Plan(opts)
	if err != nil {
		return nil, err
	}
	if ws.Data.NumTrain < plan.TrainRows || ws.Data.N()-ws.Data.NumTrain < plan.TestRows {
		return nil, fmt.Errorf("preset %s needs %d training and %d test rows; the data has %d and %d", plan.Preset,
			plan.TrainRows, plan.TestRows, ws.Data.NumTrain, ws.Data.N()-ws.Data.NumTrain)
	}
	pool := *ws
	pool.Data = ws.Data.Sample(plan.TrainRows, plan.TestRows)
	pool.CNNRecipe = plan.Recipe
	return &Study{Plan: plan, WS: &pool}, nil
}

// Data returns the pool: the rows every basis is computed on (its first NumTrain rows are the training
// rows that Question 1 selects from).
func (s *Study) Data() *mnist.Dataset { return s.WS.Data }

// Bases computes (or finds cached) every basis of the plan and its leverage on the pool.
func (s *Study) Bases(ctx context.Context) ([]*BasisResult, error) {
	if s.bases != nil {
		return s.bases, nil
	}
	var out []*BasisResult
	for _, spec := range s.Plan.Bases {
		b, err := s.basis(ctx, spec)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	s.bases = out
	return out, nil
}

func (s *Study) basis(ctx context.Context, spec basis.Spec) (*BasisResult, error) {
	label, family := basis.Label(spec)
	b := &BasisResult{Spec: spec, Label: label, Family: family, Name: spec.String()}
	var err error
	if b.Leverage, err = s.WS.Leverage(ctx, spec, leverage.Options{}); err != nil {
		return nil, err
	}
	if spec.Kind == basis.KindCNN {
		if _, b.Manifest, err = s.WS.CNN(ctx, spec.Group, spec.Seed); err != nil {
			return nil, err
		}
		if spec.Group != cnn.GroupC {
			n := s.WS.Data.NumTrain
			if t := s.Plan.Recipe.TrainRows; t > 0 {
				n = min(n, t)
			}
			b.TrainedOn = fmt.Sprintf("trained on pool training rows 0–%d (%d of the %d rows it selects from)", n-1, n, s.WS.Data.NumTrain)
		}
	}
	if spec.Kind == basis.KindTorch {
		b.TrainedOn = "trained by the original study on the 60,000 MNIST training images"
	}
	return b, nil
}

// Basis returns a basis of the plan by label (raw, relu, relu:F=784,seed=2, A1, …).
func (s *Study) Basis(ctx context.Context, label string) (*BasisResult, error) {
	bases, err := s.Bases(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range bases {
		if b.Label == label {
			return b, nil
		}
	}
	var have []string
	for _, b := range bases {
		have = append(have, b.Label)
	}
	return nil, fmt.Errorf("no basis %q in preset %s (have %s)", label, s.Plan.Preset, strings.Join(have, ", "))
}

// Select returns the plan's bases whose label or family is in list (comma-separated; "all" or empty:
// every basis), in plan order. An unknown name is an error.
func (s *Study) Select(ctx context.Context, list string) ([]*BasisResult, error) {
	bases, err := s.Bases(ctx)
	if err != nil {
		return nil, err
	}
	if list == "" || list == "all" {
		return bases, nil
	}
	var out []*BasisResult
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, b := range bases {
			if (b.Label == name || b.Family == name) && !slices.Contains(out, b) {
				out, found = append(out, b), true
			}
		}
		if !found {
			var have []string
			for _, b := range bases {
				have = append(have, b.Label)
			}
			return nil, fmt.Errorf("no basis or family %q in preset %s (have %s)", name, s.Plan.Preset, strings.Join(have, ", "))
		}
	}
	return out, nil
}

// q1.Run answers Question 1 over every basis of the plan (remembered for the study's lifetime).
func (s *Study) Q1(ctx context.Context) (*q1.Result, error) {
	if s.q1 != nil {
		return s.q1, nil
	}
	r, err := q1.Run(ctx, s.WS, s.Plan.Bases, s.Plan.Q1)
	if err != nil {
		return nil, err
	}
	s.q1 = r
	return r, nil
}

// Q2 answers Question 2 over every basis of the plan, with its controls (remembered for the study's
// lifetime, and cached on disk by q2.Run).
func (s *Study) Q2(ctx context.Context) (*q2.Result, error) {
	if s.q2 != nil {
		return s.q2, nil
	}
	r, err := q2.Run(ctx, s.WS, s.Plan.Bases, s.Plan.Q2)
	if err != nil {
		return nil, err
	}
	s.q2 = r
	return r, nil
}

// Presets returns the presets of a study, in a fixed order (a copy: the caller may change it).
func Presets() []Preset {
	return slices.Clone(presets)
}
