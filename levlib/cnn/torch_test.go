package cnn_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

const originalStudy = "../../../shared/original-study"

// originalNets returns the 15 .pth files of the original study by file letter+index ("A1" …), or skips.
func originalNets(t testing.TB) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(originalStudy, "networks", "mnist-cnn-*.pth"))
	if len(files) != 15 {
		t.Skipf("the original study's networks are not in %s/networks (../shared is absent in a user's clone)", originalStudy)
	}
	m := map[string]string{}
	for _, f := range files {
		m[strings.Split(filepath.Base(f), "-")[2]] = f
	}
	return m
}

type first16 struct {
	Nets map[string]struct {
		Embed  [][]float64 `json:"embed"`
		Logits [][]float64 `json:"logits"`
	} `json:"nets"`
}

// TestTorchImportMatchesReference loads all 15 original .pth files with gopickle and checks that our
// GoMLX MnistConvNet reproduces PyTorch 1.13's embeddings and logits of the first 16 training images
// (reference/first16.json) within 1e-4, with both graph formulations (im2col and native convolution).
func TestTorchImportMatchesReference(t *testing.T) {
	nets := originalNets(t)
	b, err := os.ReadFile(filepath.Join(originalStudy, "reference", "first16.json"))
	if err != nil {
		t.Skipf("reference outputs missing: %v", err)
	}
	var ref first16
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	ds, err := mnist.Load(testutil.MNISTDir(t), 16)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	for name, path := range nets {
		w, err := cnn.LoadTorch(path)
		if err != nil {
			t.Fatal(err)
		}
		want := ref.Nets[name]
		for _, impl := range []cnn.ConvImpl{cnn.Im2Col, cnn.NativeConv, cnn.HostColumns} {
			out, err := cnn.Forward(context.Background(), be, ds, w, cnn.ForwardOptions{Impl: impl})
			if err != nil {
				t.Fatal(err)
			}
			maxE, maxL := 0.0, 0.0
			for i := 0; i < 16; i++ {
				for j := 0; j < 200; j++ {
					maxE = math.Max(maxE, math.Abs(out.Embedding.Data[i*200+j]-want.Embed[i][j]))
				}
				for j := 0; j < 10; j++ {
					maxL = math.Max(maxL, math.Abs(float64(out.Logits[i*10+j])-want.Logits[i][j]))
				}
			}
			if maxE > 1e-4 || maxL > 1e-4 || math.IsNaN(maxE+maxL) {
				t.Errorf("%s impl %d: max |Δembed| = %.3g, max |Δlogits| = %.3g, want ≤ 1e-4", name, impl, maxE, maxL)
			} else if name == "C1" {
				t.Logf("%s impl %d: max |Δembed| = %.3g, max |Δlogits| = %.3g", name, impl, maxE, maxL)
			}
		}
	}
}

func TestTorchImportErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pth")
	os.WriteFile(garbage, []byte("definitely not a pickle"), 0o644)
	if _, err := cnn.LoadTorch(garbage); !errors.Is(err, cnn.ErrBadWeightsFile) || !strings.Contains(err.Error(), garbage) {
		t.Errorf("garbage: got %v", err)
	}
	if _, err := cnn.LoadTorch(filepath.Join(dir, "missing.pth")); err == nil || !strings.Contains(err.Error(), "missing.pth") {
		t.Errorf("missing: got %v", err)
	}
	nets := originalNets(t)
	// A truncated copy of a real file.
	b, _ := os.ReadFile(nets["A1"])
	trunc := filepath.Join(dir, "trunc.pth")
	os.WriteFile(trunc, b[:len(b)/2], 0o644)
	if _, err := cnn.LoadTorch(trunc); !errors.Is(err, cnn.ErrBadWeightsFile) {
		t.Errorf("truncated: got %v", err)
	}
}
