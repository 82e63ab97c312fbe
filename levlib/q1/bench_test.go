package q1_test

import (
	"context"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// BenchmarkQ1Sweep times Question 1 from an empty cache on all 70,000 rows, per classifier: the RAW
// basis's leverage (of the pool and of the training rows), then every strategy at k = 1000 with seeds
// 1 and 2, fitted with the linear classifier (raw pixels, 300 Adam steps: random and sampled twice, top,
// bottom and balanced once, 7 fits) or the cnn classifier (300 steps, every strategy twice, 10 fits),
// accuracy on 10,000 training and all 10,000 test rows.
func BenchmarkQ1Sweep(b *testing.B) {
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testutil.Backend(b).Backend
	for _, cl := range []q1.Classifier{q1.ClassifierLinear, q1.ClassifierCNN} {
		b.Run("classifier="+string(cl), func(b *testing.B) {
			for b.Loop() {
				ws := &workspace.Workspace{Backend: be, Data: ds, Cache: &workspace.Cache{Dir: b.TempDir()}}
				opts := q1.Options{Grids: []q1.Grid{{Classifier: cl, K: []int{1000}}}, Seeds: 2, TrainEvalRows: 10000,
					CNN: cnn.TrainOptions{Steps: 300}}
				if _, err := q1.Run(context.Background(), ws, []basis.Spec{{Kind: basis.KindRaw}}, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
