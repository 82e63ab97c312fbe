package levlib

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
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
	History       []EpochStats      `json:"history,omitempty"`
	Created       string            `json:"created"`
	Key           string            `json:"key"`
}

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:12])
}

// CNN returns network group/seed, trained with w.CNN's recipe: from the cache when a network of the
// same recipe and data was trained before, else trained (resuming from a checkpoint of an interrupted
// run) and cached as cnn/mnist-cnn-<group><seed>-<sha256>.bin with a .json manifest.
func (w *Workspace) CNN(ctx context.Context, group Group, seed uint64) (*CNNWeights, *CNNManifest, error) {
	type trained struct {
		w *CNNWeights
		m *CNNManifest
	}
	t, err := remember(w, "cnn "+w.recipe(group, seed).key(w.Data), func() (trained, error) {
		wts, m, err := w.trainOrLoadCNN(ctx, group, seed)
		return trained{wts, m}, err
	})
	return t.w, t.m, err
}

func (w *Workspace) trainOrLoadCNN(ctx context.Context, group Group, seed uint64) (*CNNWeights, *CNNManifest, error) {
	opts := w.recipe(group, seed)
	key := opts.key(w.Data)
	var dir, index string
	if w.Cache != nil && w.Cache.Dir != "" {
		dir = filepath.Join(w.Cache.Dir, "cnn")
		index = filepath.Join(dir, "index", keyHash(key)+".json")
		if m, err := w.loadCNNIndex(index, key); err == nil {
			wts, err := LoadCNNWeights(filepath.Join(dir, m.Name+".bin"), nil)
			if err == nil && wts.SHA256() == m.WeightsSHA {
				return wts, m, nil
			}
			w.warn(fmt.Errorf("cached network %s is damaged, retraining: %v", m.Name, err))
		} else if !errors.Is(err, fs.ErrNotExist) {
			w.warn(fmt.Errorf("cache index %s: %v; retraining", index, err))
		}
		opts.CheckpointPath = filepath.Join(dir, "partial", keyHash(key)+".ckpt")
	}
	opts.Progress = w.Progress
	if opts.CheckpointPath != "" {
		if _, err := os.Stat(opts.CheckpointPath); err == nil {
			w.note(fmt.Sprintf("train %c%d: resuming from checkpoint %s", group, seed, opts.CheckpointPath))
		}
	}
	res, err := TrainCNN(ctx, w.Backend, w.Data, opts)
	if res != nil {
		for _, wr := range res.Warnings {
			w.warn(wr)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	sha := res.Weights.SHA256()
	m := &CNNManifest{
		Name: fmt.Sprintf("mnist-cnn-%c%d-%s", group, seed, sha), Group: string(group), Seed: seed,
		Epochs: opts.Epochs, Steps: opts.Steps, DoubleSoftmax: opts.DoubleSoftmax, TrainRows: opts.TrainRows, BatchSize: opts.BatchSize, LearningRate: opts.LearningRate,
		Data: w.Data.SHA256, DataRows: w.Data.N(), Backend: w.Backend.Name(), Versions: BuildVersions(),
		WeightsSHA: sha, History: res.History, Created: time.Now().UTC().Format(time.RFC3339), Key: key,
	}
	if dir != "" {
		if err := SaveCNNWeights(filepath.Join(dir, m.Name+".bin"), res.Weights, nil); err != nil {
			return nil, nil, err
		}
		mb, _ := json.MarshalIndent(m, "", "  ")
		if err := WriteFileAtomic(filepath.Join(dir, m.Name+".json"), mb); err != nil {
			return nil, nil, err
		}
		if err := WriteFileAtomic(index, mb); err != nil {
			return nil, nil, err
		}
		if err := removeIfExists(opts.CheckpointPath); err != nil {
			w.warn(err)
		}
	}
	return res.Weights, m, nil
}

// recipe returns the training options of network group/seed.
func (w *Workspace) recipe(group Group, seed uint64) CNNTrainOptions {
	opts := w.CNNRecipe
	opts.Group, opts.Seed = group, seed
	opts = opts.withDefaults()
	if group == GroupC {
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
func (w *Workspace) cnnWeightsFor(ctx context.Context, spec BasisSpec) (*CNNWeights, error) {
	switch spec.Kind {
	case KindCNN:
		wts, _, err := w.CNN(ctx, spec.Group, spec.Seed)
		return wts, err
	case KindTorch:
		return LoadTorchCNN(spec.Path)
	}
	return nil, fmt.Errorf("basis %s is not a CNN", spec)
}

// Embedding returns the N×200 CNN embedding of a cnn or torch basis, from the cache when the same
// weights were applied to the same data before.
func (w *Workspace) Embedding(ctx context.Context, spec BasisSpec) (*Matrix, error) {
	wts, err := w.cnnWeightsFor(ctx, spec)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("embedding weights=%s %s", wts.SHA256(), dataKey(w.Data))
	m, err := w.Cache.Load("embedding", key, nil)
	if err != nil {
		w.warn(fmt.Errorf("recomputing: %w", err))
	}
	if m != nil {
		return m, nil
	}
	out, err := ForwardCNN(ctx, w.Backend, w.Data, wts, ForwardOptions{Progress: w.Progress})
	if err != nil {
		return nil, err
	}
	if err := w.Cache.Save("embedding", key, out.Embedding, nil); err != nil {
		w.warn(fmt.Errorf("not cached: %w", err))
	}
	return out.Embedding, nil
}
