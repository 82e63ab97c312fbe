package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/buildinfo"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// CNNManifest records what produced a cached network.
type CNNManifest struct {
	Name          string            `json:"name"` // e.g. mnist-cnn-A1-<sha256>
	Group         string            `json:"group"`
	Seed          uint64            `json:"seed"`
	Epochs        int               `json:"epochs"`
	Steps         int               `json:"steps,omitempty"`
	DoubleSoftmax bool              `json:"double_softmax,omitempty"`
	TrainRows     int               `json:"train_rows"`
	BatchSize     int               `json:"batch_size"`
	LearningRate  float64           `json:"learning_rate"`
	Data          map[string]string `json:"data_sha256"`
	DataRows      int               `json:"data_rows"`
	Backend       string            `json:"backend"`
	Versions      map[string]string `json:"versions"`
	WeightsSHA    string            `json:"weights_sha256"`
	History       []cnn.EpochStats  `json:"history,omitempty"`
	Created       string            `json:"created"`
	Key           string            `json:"key"`
}

// CNN returns network group/seed, trained with w.CNN's recipe: from the cache when a network of the
// same recipe and data was trained before, else trained (resuming from a checkpoint of an interrupted
// run) and cached as cnn/mnist-cnn-<group><seed>-<sha256>.bin with a .json manifest.
func (w *Workspace) CNN(ctx context.Context, group cnn.Group, seed uint64) (*cnn.Weights, *CNNManifest, error) {
	type trained struct {
		w *cnn.Weights
		m *CNNManifest
	}
	t, err := remember(w, "cnn "+w.recipe(group, seed).Key(w.Data), func() (trained, error) {
		wts, m, err := w.trainOrLoadCNN(ctx, group, seed)
		return trained{wts, m}, err
	})
	return t.w, t.m, err
}

func (w *Workspace) trainOrLoadCNN(ctx context.Context, group cnn.Group, seed uint64) (*cnn.Weights, *CNNManifest, error) {
	opts := w.recipe(group, seed)
	key := opts.Key(w.Data)
	var dir, index string
	if w.Cache != nil && w.Cache.Dir != "" {
		dir = filepath.Join(w.Cache.Dir, "cnn")
		index = filepath.Join(dir, "index", KeyHash(key)+".json")
		if m, err := w.loadCNNIndex(index, key); err == nil {
			wts, err := cnn.LoadWeights(filepath.Join(dir, m.Name+".bin"), nil)
			if err == nil && wts.SHA256() == m.WeightsSHA {
				return wts, m, nil
			}
			w.Warning(fmt.Errorf("cached network %s is damaged, retraining: %v", m.Name, err))
		} else if !errors.Is(err, fs.ErrNotExist) {
			w.Warning(fmt.Errorf("cache index %s: %v; retraining", index, err))
		}
		opts.CheckpointPath = filepath.Join(dir, "partial", KeyHash(key)+".ckpt")
	}
	opts.Progress = w.Progress
	if opts.CheckpointPath != "" {
		if _, err := os.Stat(opts.CheckpointPath); err == nil {
			w.Notice(fmt.Sprintf("train %c%d: resuming from checkpoint %s", group, seed, opts.CheckpointPath))
		}
	}
	res, err := cnn.Train(ctx, w.Backend, w.Data, opts)
	if res != nil {
		for _, wr := range res.Warnings {
			w.Warning(wr)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	sha := res.Weights.SHA256()
	m := &CNNManifest{
		Name: fmt.Sprintf("mnist-cnn-%c%d-%s", group, seed, sha), Group: string(group), Seed: seed,
		Epochs: opts.Epochs, Steps: opts.Steps, DoubleSoftmax: opts.DoubleSoftmax, TrainRows: opts.TrainRows, BatchSize: opts.BatchSize, LearningRate: opts.LearningRate,
		Data: w.Data.SHA256, DataRows: w.Data.N(), Backend: w.Backend.Name(), Versions: buildinfo.Versions(),
		WeightsSHA: sha, History: res.History, Created: time.Now().UTC().Format(time.RFC3339), Key: key,
	}
	if dir != "" {
		if err := cnn.SaveWeights(filepath.Join(dir, m.Name+".bin"), res.Weights, nil); err != nil {
			return nil, nil, err
		}
		mb, _ := json.MarshalIndent(m, "", "  ")
		if err := fileio.WriteFileAtomic(filepath.Join(dir, m.Name+".json"), mb); err != nil {
			return nil, nil, err
		}
		if err := fileio.WriteFileAtomic(index, mb); err != nil {
			return nil, nil, err
		}
		if err := fileio.RemoveIfExists(opts.CheckpointPath); err != nil {
			w.Warning(err)
		}
	}
	return res.Weights, m, nil
}

// recipe returns the training options of network group/seed.
func (w *Workspace) recipe(group cnn.Group, seed uint64) cnn.TrainOptions {
	opts := w.CNNRecipe
	opts.Group, opts.Seed = group, seed
	opts = opts.WithDefaults()
	if group == cnn.GroupC {
		opts.Epochs, opts.TrainRows = 0, 0 // untrained: the recipe does not matter
	}
	return opts
}

func (w *Workspace) loadCNNIndex(path, key string) (*CNNManifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m CNNManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Key != key {
		return nil, fs.ErrNotExist
	}
	return &m, nil
}

// cnnWeightsFor returns the weights of a cnn or torch basis.
func (w *Workspace) cnnWeightsFor(ctx context.Context, spec basis.Spec) (*cnn.Weights, error) {
	switch spec.Kind {
	case basis.KindCNN:
		wts, _, err := w.CNN(ctx, spec.Group, spec.Seed)
		return wts, err
	case basis.KindTorch:
		return cnn.LoadTorch(spec.Path)
	}
	return nil, fmt.Errorf("basis %s is not a CNN", spec)
}

// Embedding returns the N×200 CNN embedding of a cnn or torch basis, from the cache when the same
// weights were applied to the same data before.
func (w *Workspace) Embedding(ctx context.Context, spec basis.Spec) (*matrixio.Matrix, error) {
	wts, err := w.cnnWeightsFor(ctx, spec)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("embedding weights=%s %s", wts.SHA256(), mnist.DataKey(w.Data))
	m, ok, err := w.Cache.LoadMatrix("embedding", key, nil)
	if err != nil {
		w.Warning(fmt.Errorf("recomputing: %w", err))
	}
	if ok {
		return m, nil
	}
	out, err := cnn.Forward(ctx, w.Backend, w.Data, wts, cnn.ForwardOptions{Progress: w.Progress})
	if err != nil {
		return nil, err
	}
	if err := w.Cache.SaveMatrix("embedding", key, out.Embedding, nil); err != nil {
		w.Warning(fmt.Errorf("not cached: %w", err))
	}
	return out.Embedding, nil
}
