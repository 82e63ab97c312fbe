package leverage

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"gonum.org/v1/gonum/mat"
)

// TestOnHostCancel checks that a host computation that never looks at ctx (a factorization) does not
// hold up cancellation: onHost returns ctx's error while the computation still runs.
func TestOnHostCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	done := make(chan error, 1)
	go func() {
		_, err := onHost(ctx, func() (int, error) { <-release; return 1, nil })
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("onHost after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("onHost waited for the computation after cancel")
	}
	if v, err := onHost(context.Background(), func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Errorf("onHost = %d, %v", v, err)
	}
}

// TestChunkRowsCap checks the multiply-add cap of a chunk: MNIST's 784 columns keep the default
// chunks, 16,384 columns get 32 rows (2³³ / 16384²), and an explicit ChunkRows is kept.
func TestChunkRowsCap(t *testing.T) {
	r := &leverageRun{n: 70000, d: 784}
	if got, want := r.chunkRows(784), gomlxutil.ChunkRows(70000, 784, 0); got != want {
		t.Errorf("784 columns: %d rows, want the default %d", got, want)
	}
	r = &leverageRun{n: 100000, d: 16384}
	if got := r.chunkRows(16384); got != 32 {
		t.Errorf("16384 columns: %d rows, want 32", got)
	}
	r.opts.ChunkRows = 500
	if got := r.chunkRows(16384); got != 500 {
		t.Errorf("explicit ChunkRows: %d", got)
	}
}

// TestTailNorm checks the σ_{r+1} bound: exact (√λ_max) for a tail of up to maxTailEigen columns, √trace
// above it, which is never below √λ_max.
func TestTailNorm(t *testing.T) {
	for _, n := range []int{3, maxTailEigen + 1} {
		h := mat.NewSymDense(n, nil)
		for i := 0; i < n; i++ {
			h.SetSym(i, i, 1e-30*float64(i%3+1))
		}
		h.SetSym(0, 0, 4e-30)
		got, err := tailNorm(h, 1e-10)
		if err != nil {
			t.Fatal(err)
		}
		want := 2e-15
		if n > maxTailEigen {
			want = math.Sqrt(4e-30 + 1e-30*float64(2*n-2)) // trace: 4 + Σ(i%3+1) over i ≥ 1 ≈ 2(n−1)
			if got < 2e-15 || math.Abs(got-want) > 0.01*want {
				t.Errorf("n = %d: %g, want √trace ≈ %g ≥ √λ_max = 2e-15", n, got, want)
			}
			continue
		}
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("n = %d: %g, want %g", n, got, want)
		}
	}
	if v, err := tailNorm(nil, 1); v != 0 || err != nil {
		t.Errorf("no tail: %v %v", v, err)
	}
}
