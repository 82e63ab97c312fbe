package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/gomlx/compute"
	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// Workspace ties together what the study's computations share: a backend, the data, a cache and a
// progress callback. The zero Cache caches nothing; a nil progress.Report is silent.
type Workspace struct {
	Backend  compute.Backend
	Data     *mnist.Dataset
	Cache    *Cache
	Progress func(progress.Report)
	// CNNRecipe is how cnn bases are trained (Group and Seed are ignored; the zero value is the original
	// study's 5 epochs, batch 64, Adam 1e-3 on all training rows).
	CNNRecipe cnn.TrainOptions
	// Warn, if not nil, receives problems that do not stop the work (e.g. a corrupt cache entry that is
	// being recomputed).
	Warn func(error)
	// Note, if not nil, receives one-line notices (e.g. that training resumes from a checkpoint).
	Note func(string)
	// mem keeps this workspace's small results in memory (trained networks, leverage scores), so that
	// the stages of a study reuse them even without a disk cache.
	mem *memo
}

// LeverageCacheVersion starts the cache key of every leverage result (and of results built on them,
// such as Question 2's): bump it when the engine's scores or metadata change.
const LeverageCacheVersion = "leverage v4"

// memoInit guards the creation of a Workspace's memo (a Workspace is a plain struct literal).
var memoInit sync.Mutex

// memo is an in-memory map of results by cache key.
type memo struct {
	mu sync.Mutex
	m  map[string]any
}

// remember returns the value of key, computing it with f the first time (errors are not remembered).
func remember[T any](w *Workspace, key string, f func() (T, error)) (T, error) {
	memoInit.Lock()
	if w.mem == nil {
		w.mem = &memo{m: map[string]any{}}
	}
	memoInit.Unlock()
	w.mem.mu.Lock()
	v, ok := w.mem.m[key]
	w.mem.mu.Unlock()
	if ok {
		return v.(T), nil
	}
	t, err := f()
	if err != nil {
		return t, err
	}
	w.mem.mu.Lock()
	w.mem.m[key] = t
	w.mem.mu.Unlock()
	return t, nil
}

func (w *Workspace) Notice(s string) {
	if w.Note != nil {
		w.Note(s)
	}
}

func (w *Workspace) Warning(err error) {
	if w.Warn != nil {
		w.Warn(err)
	}
}

// Basis builds the basis matrix of spec for w.Data (training or loading a CNN as needed; matrices are
// not kept in memory: embeddings come back from the disk cache). File bases (npy, csv) are not images
// of w.Data: they are an error here (use basis.LeverageOfFile).
func (w *Workspace) Basis(ctx context.Context, spec basis.Spec) (*matrixio.Matrix, error) {
	if spec.Kind.IsNetwork() {
		m, err := w.Embedding(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("basis %s: %w", spec, err)
		}
		return m, nil
	}
	return spec.Build(ctx, w.Backend, w.Data, w.Progress)
}

// leverageMeta is what the cache stores beside the scores.
type leverageMeta struct {
	Rows           int       `json:"rows"`
	Cols           int       `json:"cols"`
	Rank           int       `json:"rank"`
	Tolerance      float64   `json:"tolerance"`
	SingularValues []float64 `json:"singular_values,omitempty"`
	SigmaMax       float64   `json:"sigma_max"`
	GramTrace      float64   `json:"gram_trace"`
	SigmaRank      float64   `json:"sigma_rank"`
	SigmaNext      float64   `json:"sigma_next"`
	Warnings       []string  `json:"warnings,omitempty"`
	RankDeficient  []bool    `json:"rank_deficient"` // per warning: errors.Is(w, ErrRankDeficient)
	Refined        bool      `json:"refined"`
	Passes         int       `json:"passes"`
	Ridge          float64   `json:"ridge"`
	NearOne        int       `json:"near_one"`
}

// cachedWarning restores a warning read from the cache, keeping errors.Is(w, ErrRankDeficient).
type cachedWarning struct {
	msg           string
	rankDeficient bool
}

func (c cachedWarning) Error() string { return c.msg }

func (c cachedWarning) Is(target error) bool {
	return c.rankDeficient && target == leverage.ErrRankDeficient
}

// Leverage returns the leverage scores of basis spec on w.Data with opts.Method, from the cache when
// an entry for the same data, basis and method exists, else computed and cached. File bases (npy,
// csv) are an error (use basis.LeverageOfFile).
func (w *Workspace) Leverage(ctx context.Context, spec basis.Spec, opts leverage.Options) (*leverage.Result, error) {
	id, err := w.BasisID(spec)
	if err != nil {
		return nil, err
	}
	return w.leverageCached(ctx, spec, id, w.Data.N(), func() (*matrixio.Matrix, error) { return w.Basis(ctx, spec) }, opts)
}

// LeverageOfRows returns the leverage scores of the first n rows of basis spec on w.Data (the pool's
// training rows, for a selection the test images play no part in), cached like Leverage. The basis is
// the same as Leverage's — a network is trained and embeds as for all rows — only the rows scored
// differ. n must be in 1..N.
func (w *Workspace) LeverageOfRows(ctx context.Context, spec basis.Spec, n int, opts leverage.Options) (*leverage.Result, error) {
	if n < 1 || n > w.Data.N() {
		return nil, fmt.Errorf("leverage of the first %d rows of basis %s: the data has %d rows", n, spec, w.Data.N())
	}
	if n == w.Data.N() {
		return w.Leverage(ctx, spec, opts)
	}
	id, err := w.BasisID(spec)
	if err != nil {
		return nil, err
	}
	return w.leverageCached(ctx, spec, id, n, func() (*matrixio.Matrix, error) {
		m, err := w.Basis(ctx, spec)
		if err != nil {
			return nil, err
		}
		return &matrixio.Matrix{Rows: n, Cols: m.Cols, Data: m.Data[:n*m.Cols]}, nil
	}, opts)
}

// BasisID identifies a basis for cache keys: its name, or what determines it (a CNN's recipe, a .pth
// file's content).
func (w *Workspace) BasisID(spec basis.Spec) (string, error) {
	spec = spec.Normalized()
	switch spec.Kind {
	case basis.KindCNN:
		return w.recipe(spec.Group, spec.Seed).Key(w.Data), nil
	case basis.KindTorch:
		sum, err := torchSHA256(spec.Path)
		if err != nil {
			return "", fmt.Errorf("basis %s: %w", spec, err)
		}
		return "torch sha256=" + sum, nil
	case basis.KindNPY, basis.KindCSV:
		return "", fmt.Errorf("basis %s: %w", spec, basis.FileBasisError(spec.Kind))
	}
	return spec.String(), nil
}

// torchSHA256 returns the hex sha256 of a .pth file after cnn.CheckTorchFile (a regular file of
// bounded size that looks like one), streaming it: a device or a huge file is refused, not read.
func torchSHA256(path string) (string, error) {
	st, err := cnn.CheckTorchFile(path)
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, st.Size())); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// tooFewRows is the error for a basis with fewer rows than features.
func tooFewRows(spec basis.Spec, rows, cols int) error {
	return fmt.Errorf("leverage of basis %s: %d rows < %d features: with fewer rows than columns every row of a full-rank basis has leverage 1 (use fewer features or more rows)",
		spec, rows, cols)
}

func (w *Workspace) leverageCached(ctx context.Context, spec basis.Spec, id string, rows int, build func() (*matrixio.Matrix, error), opts leverage.Options) (*leverage.Result, error) {
	if d := spec.Dim(); rows < d {
		return nil, tooFewRows(spec, rows, d)
	}
	key := fmt.Sprintf("%s %s leverage-rows=%d basis=%s method=%s rtol=%g refine=%s ridge=%g", LeverageCacheVersion, mnist.DataKey(w.Data), rows, id, opts.Method,
		opts.RelTolerance, opts.Refinement, opts.Ridge)
	return remember(w, key, func() (*leverage.Result, error) { return w.leverageFromCache(ctx, spec, key, build, opts) })
}

// leverageFromCache loads a leverage result from the disk cache, or computes and saves it.
func (w *Workspace) leverageFromCache(ctx context.Context, spec basis.Spec, key string, build func() (*matrixio.Matrix, error), opts leverage.Options) (*leverage.Result, error) {
	var meta leverageMeta
	m, ok, err := w.Cache.LoadMatrix("leverage", key, &meta)
	switch {
	case err != nil:
		w.Warning(fmt.Errorf("recomputing: %w", err))
	case ok && (m.Cols != 1 || m.Rows != meta.Rows):
		w.Warning(fmt.Errorf("recomputing: %s: %w: %d×%d scores for %d rows", w.Cache.Path("leverage", key), ErrCacheCorrupt, m.Rows, m.Cols, meta.Rows))
	case ok:
		res := &leverage.Result{Scores: m.Data, Rows: meta.Rows, Cols: meta.Cols, Rank: meta.Rank, Tolerance: meta.Tolerance,
			SingularValues: meta.SingularValues, SigmaMax: meta.SigmaMax, GramTrace: meta.GramTrace, SigmaRank: meta.SigmaRank, SigmaNext: meta.SigmaNext,
			Method: opts.Method, Refined: meta.Refined, Passes: meta.Passes, Ridge: meta.Ridge, NearOne: meta.NearOne}
		for i, s := range meta.Warnings {
			res.Warnings = append(res.Warnings, cachedWarning{s, i < len(meta.RankDeficient) && meta.RankDeficient[i]})
		}
		return res, nil
	}
	x, err := build()
	if err != nil {
		return nil, err
	}
	if x.Rows < x.Cols {
		return nil, tooFewRows(spec, x.Rows, x.Cols)
	}
	if opts.Progress == nil {
		opts.Progress = w.Progress
	}
	res, err := leverage.Scores(ctx, w.Backend, x, opts)
	if err != nil {
		return nil, fmt.Errorf("leverage of basis %s: %w", spec, err)
	}
	meta = leverageMeta{Rows: res.Rows, Cols: res.Cols, Rank: res.Rank, Tolerance: res.Tolerance, SingularValues: res.SingularValues,
		SigmaMax: res.SigmaMax, GramTrace: res.GramTrace, SigmaRank: res.SigmaRank, SigmaNext: res.SigmaNext, Refined: res.Refined, Passes: res.Passes,
		Ridge: res.Ridge, NearOne: res.NearOne}
	for _, wr := range res.Warnings {
		meta.Warnings = append(meta.Warnings, wr.Error())
		meta.RankDeficient = append(meta.RankDeficient, errors.Is(wr, leverage.ErrRankDeficient))
	}
	if err := w.Cache.SaveMatrix("leverage", key, &matrixio.Matrix{Rows: len(res.Scores), Cols: 1, Data: res.Scores}, meta); err != nil {
		w.Warning(fmt.Errorf("not cached: %w", err))
	}
	return res, nil
}
