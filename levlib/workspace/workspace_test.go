package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/workspace"
)

func TestWorkspaceRefusesFileBases(t *testing.T) {
	ws := &workspace.Workspace{}
	ctx := context.Background()
	for _, s := range []string{"npy:x.npy", "csv:x.csv"} {
		spec, err := basis.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		want := string(spec.Kind) + " bases are read with levstudy leverage"
		if _, err := ws.Basis(ctx, spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Basis(%s): %v", s, err)
		}
		if _, err := ws.Leverage(ctx, spec, leverage.Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Leverage(%s): %v", s, err)
		}
		if _, err := spec.Build(ctx, nil, nil, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s): %v", s, err)
		}
	}
}

// TestWorkspaceCNNCache checks the cached network's name and manifest, reuse, and that a damaged file
// is retrained rather than trusted.
func TestWorkspaceCNNCache(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 400)
	if err != nil {
		t.Fatal(err)
	}
	var warns []error
	dir := t.TempDir()
	newWorkspace := func() *workspace.Workspace { // a new process: nothing in memory, the disk cache shared
		return &workspace.Workspace{Backend: testutil.Backend(t).Backend, Data: ds, Cache: &workspace.Cache{Dir: dir},
			CNNRecipe: cnn.TrainOptions{Epochs: 1, TrainRows: 128, EvalRows: -1},
			Warn:      func(err error) { warns = append(warns, err) }}
	}
	ws := newWorkspace()
	ctx := context.Background()
	w1, m1, err := ws.CNN(ctx, cnn.GroupA, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^mnist-cnn-A3-[0-9a-f]{64}$`).MatchString(m1.Name) || m1.WeightsSHA != w1.SHA256() ||
		m1.Epochs != 1 || m1.TrainRows != 128 || m1.Data["train-images-idx3-ubyte.gz"] == "" || m1.Versions["go"] == "" {
		t.Errorf("manifest %+v", m1)
	}
	start := time.Now()
	w2, _, err := newWorkspace().CNN(ctx, cnn.GroupA, 3)
	if err != nil || w2.SHA256() != w1.SHA256() {
		t.Fatalf("cached: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Log("loading a cached network took", time.Since(start))
	}
	// C3 starts from A3's initial weights and is not trained.
	c3, _, err := ws.CNN(ctx, cnn.GroupC, 3)
	if err != nil || c3.SHA256() != cnn.Init(3).SHA256() {
		t.Fatalf("C3: %v", err)
	}
	// Damage the weights file: the next call warns and retrains to the same weights.
	path := filepath.Join(ws.Cache.Dir, "cnn", m1.Name+".bin")
	b, _ := os.ReadFile(path)
	b[len(b)-5] ^= 0xff
	os.WriteFile(path, b, 0o644)
	w3, _, err := newWorkspace().CNN(ctx, cnn.GroupA, 3)
	if err != nil || w3.SHA256() != w1.SHA256() || len(warns) != 1 || !strings.Contains(warns[0].Error(), "damaged") {
		t.Fatalf("damaged: %v, warnings %v", err, warns)
	}
	// Embeddings are cached too, and a cnn basis has leverage.
	e1, err := ws.Embedding(ctx, basis.Spec{Kind: basis.KindCNN, Group: cnn.GroupA, Seed: 3})
	if err != nil || e1.Rows != 400 || e1.Cols != 200 {
		t.Fatalf("embedding: %v", err)
	}
	res, err := ws.Leverage(ctx, basis.Spec{Kind: basis.KindCNN, Group: cnn.GroupA, Seed: 3}, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	testutil.CheckLeverage(t, res.Scores, res.Rank)
}
