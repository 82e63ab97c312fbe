package basis_test

import (
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
)

func TestBasisLabel(t *testing.T) {
	for _, tc := range []struct {
		spec         basis.Spec
		label, group string
	}{
		{basis.Spec{Kind: basis.KindRaw}, "raw", "raw"},
		{basis.Spec{Kind: basis.KindReLU, Features: 784, Seed: 1}, "relu1", "relu"},
		{basis.Spec{Kind: basis.KindReLU, Features: 784, Seed: 4}, "relu4", "relu"},
		{basis.Spec{Kind: basis.KindReLU}, "relu1", "relu"},
		{basis.Spec{Kind: basis.KindReLU, Features: 200, Seed: 2}, "relu200-2", "relu200"},
		{basis.Spec{Kind: basis.KindCNN, Group: cnn.GroupB, Seed: 4}, "B4", "B"},
		// The original study's file letters: C = classification (our A), A = untrained (our C).
		{basis.Spec{Kind: basis.KindTorch, Path: "x/mnist-cnn-C3-abc.pth"}, "orig-A3", "orig-A"},
		{basis.Spec{Kind: basis.KindTorch, Path: "x/mnist-cnn-A2-abc.pth"}, "orig-C2", "orig-C"},
		{basis.Spec{Kind: basis.KindTorch, Path: "x/mine.pth"}, "mine", "torch"},
	} {
		if l, g := basis.Label(tc.spec); l != tc.label || g != tc.group {
			t.Errorf("%v: %s %s, want %s %s", tc.spec, l, g, tc.label, tc.group)
		}
	}
}
