package basis_test

import (
	"context"
	"math"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// TestReLUBasis compares the GoMLX ReLU features with a plain host loop, and checks that the seed fixes
// them.
func TestReLUBasis(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 50)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b := testutil.Backend(t).Backend
	const f = 64
	m, err := basis.ReLU(ctx, b, ds, basis.ReLUOptions{Features: f, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	x, w := basis.Raw(ds), basis.ReLUWeights(f, 3)
	for i := 0; i < ds.N(); i++ {
		for j := 0; j < f; j++ {
			z := 0.0
			for k := 0; k < mnist.ImagePixels; k++ {
				z += x.Data[i*mnist.ImagePixels+k] * w.Data[k*f+j]
			}
			want := math.Max(z, 0) / math.Sqrt(f)
			if got := m.Data[i*f+j]; math.Abs(got-want) > 1e-12 {
				t.Fatalf("(%d,%d) = %v, want %v", i, j, got, want)
			}
		}
	}
	again, _ := basis.ReLU(ctx, b, ds, basis.ReLUOptions{Features: f, Seed: 3})
	other, _ := basis.ReLU(ctx, b, ds, basis.ReLUOptions{Features: f, Seed: 4})
	if d, _ := testutil.MaxAbsDiff(m.Data, again.Data); d != 0 {
		t.Errorf("same seed differs by %g", d)
	}
	if d, _ := testutil.MaxAbsDiff(m.Data, other.Data); d == 0 {
		t.Error("seeds 3 and 4 gave the same features")
	}
	if _, err := basis.ReLU(ctx, b, ds, basis.ReLUOptions{}); err == nil {
		t.Error("0 features: no error")
	}
}
