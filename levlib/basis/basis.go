package basis

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// Kind is the kind of a basis.
type Kind string

// The kinds of basis.
const (
	KindRaw   Kind = "raw"   // pixels / 255
	KindReLU  Kind = "relu"  // random ReLU features
	KindCNN   Kind = "cnn"   // the embedding of a MnistConvNet trained here
	KindTorch Kind = "torch" // the embedding of a PyTorch MnistConvNet state_dict
	KindNPY   Kind = "npy"   // any N×D matrix in a NumPy .npy file (float32 or float64, C order)
	KindCSV   Kind = "csv"   // any N×D matrix in a CSV file with a header row
)

// IsFile reports whether k is a basis read from a file of features (npy, csv) rather than computed
// from the MNIST images. File bases are read with OpenFile or LeverageOfFile; a Workspace
// refuses them.
func (k Kind) IsFile() bool { return k == KindNPY || k == KindCSV }

// IsNetwork reports whether a basis of this kind is a network's embedding (cnn, torch).
func (k Kind) IsNetwork() bool { return k == KindCNN || k == KindTorch }

// Spec names a feature basis: one of the MNIST images, or any matrix in a file.
//
//	raw                      pixels / 255 (N×784)
//	relu                     relu(X W)/sqrt(F), W ~ N(0,1) 784×F, F = 784, seed 1
//	relu:F=2000,seed=7       the same with other parameters
//	cnn:A1                   200-d embedding of MnistConvNet A1 (group A, init seed 1; see cnn.Train)
//	torch:PATH.pth           200-d embedding of a PyTorch MnistConvNet state_dict (cnn.LoadTorch)
//	npy:PATH.npy             the N×D matrix of a NumPy .npy file (float32 or float64; see NPYFile)
//	csv:PATH.csv             the N×D matrix of a CSV file with a header row (see matrixio.CSVFile)
//
// The file bases (npy, csv) are not MNIST images: their leverage is computed by LeverageOfFile,
// streamed from disk.
type Spec struct {
	Kind Kind
	// Group and Seed name a CNN (cnn).
	Group cnn.Group
	// Path is the .pth file (torch), the .npy file (npy) or the CSV file (csv), as given (a path
	// may contain ':').
	Path string
	// Features is F for relu (0 means 784).
	Features int
	// Seed seeds W for relu (0 means 1) and is the init seed of a CNN.
	Seed uint64
}

// MaxFeatures is the largest F of a relu basis: the leverage engine's column limit
// (leverage.MaxCols, 16384).
const MaxFeatures = leverage.MaxCols

// Parse parses a basis name as documented on Spec.
func Parse(s string) (Spec, error) {
	kind, params, _ := strings.Cut(s, ":")
	spec := Spec{Kind: Kind(kind)}
	switch spec.Kind {
	case KindRaw:
		if params != "" {
			return spec, fmt.Errorf("basis %q: raw takes no parameters", s)
		}
	case KindReLU:
		if params == "" {
			break
		}
		for _, kv := range strings.Split(params, ",") {
			k, v, ok := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if !ok || err != nil {
				return spec, fmt.Errorf("basis %q: bad parameter %q (want F=N or seed=N)", s, kv)
			}
			switch strings.ToLower(k) {
			case "f", "features":
				if n == 0 || n > MaxFeatures {
					return spec, fmt.Errorf("basis %q: F must be in 1..%d", s, MaxFeatures)
				}
				spec.Features = int(n)
			case "seed":
				spec.Seed = n
			default:
				return spec, fmt.Errorf("basis %q: unknown parameter %q (want F or seed)", s, k)
			}
		}
	case KindCNN:
		if len(params) < 2 {
			return spec, fmt.Errorf("basis %q: want cnn:GROUP SEED, e.g. cnn:A1", s)
		}
		g, err := cnn.ParseGroup(params[:1])
		if err != nil {
			return spec, fmt.Errorf("basis %q: %w", s, err)
		}
		n, err := strconv.ParseUint(params[1:], 10, 64)
		if err != nil || n == 0 || n > 1e6 {
			return spec, fmt.Errorf("basis %q: seed %q, want 1..1000000", s, params[1:])
		}
		spec.Group, spec.Seed = g, n
	case KindTorch:
		if params == "" {
			return spec, fmt.Errorf("basis %q: want torch:PATH to a .pth state_dict", s)
		}
		spec.Path = params
	case KindNPY, KindCSV:
		if params == "" {
			return spec, fmt.Errorf("basis %q: want %s:PATH to a .%s file of N rows × D columns", s, kind, kind)
		}
		spec.Path = params
	default:
		return spec, fmt.Errorf("unknown basis %q (want raw, relu[:F=N,seed=N], cnn:A1…C5, torch:PATH.pth, npy:PATH.npy or csv:PATH.csv)", s)
	}
	return spec.Normalized(), nil
}

// Normalized fills in the defaults (F = 784, seed 1 for relu).
func (s Spec) Normalized() Spec {
	if s.Kind == KindReLU {
		if s.Features == 0 {
			s.Features = mnist.ImagePixels
		}
		if s.Seed == 0 {
			s.Seed = 1
		}
	}
	return s
}

// String returns the canonical name, e.g. "raw", "relu:F=784,seed=1" or "npy:x.npy".
func (s Spec) String() string {
	s = s.Normalized()
	switch s.Kind {
	case KindReLU:
		return fmt.Sprintf("relu:F=%d,seed=%d", s.Features, s.Seed)
	case KindCNN:
		return fmt.Sprintf("cnn:%c%d", s.Group, s.Seed)
	case KindTorch, KindNPY, KindCSV:
		return string(s.Kind) + ":" + s.Path
	}
	return string(s.Kind)
}

// Build computes the basis matrix of a pixel basis (raw, relu) of ds on backend b. A network's
// embedding needs the network (workspace.Workspace.Basis trains or loads it), and a file basis is not
// computed from ds: both are errors here.
func (s Spec) Build(ctx context.Context, b compute.Backend, ds *mnist.Dataset, progress func(progress.Report)) (*matrixio.Matrix, error) {
	s = s.Normalized()
	switch s.Kind {
	case KindRaw:
		return Raw(ds), nil
	case KindReLU:
		m, err := ReLU(ctx, b, ds, ReLUOptions{Features: s.Features, Seed: s.Seed, Progress: progress})
		if err != nil {
			return nil, fmt.Errorf("basis %s: %w", s, err)
		}
		return m, nil
	}
	if s.Kind.IsFile() {
		return nil, fmt.Errorf("basis %s: %w", s, FileBasisError(s.Kind))
	}
	if s.Kind.IsNetwork() {
		return nil, fmt.Errorf("basis %s is a network's embedding: build it with a workspace, which trains or loads the network", s)
	}
	return nil, fmt.Errorf("unknown basis kind %q", s.Kind)
}

// MarshalText writes the spec as String() does ("raw", "relu:F=784,seed=1", "cnn:A1", "npy:PATH"), so
// that results.json names each basis as the command line does.
func (s Spec) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a spec written by MarshalText (Parse).
func (s *Spec) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// Dim returns the number of features of the basis: 784 for raw, F for relu, 200 for a network's
// embedding; 0 for a file basis (known once the file is read).
func (s Spec) Dim() int {
	s = s.Normalized()
	switch s.Kind {
	case KindRaw:
		return mnist.ImagePixels
	case KindReLU:
		return s.Features
	case KindCNN, KindTorch:
		return cnn.EmbeddingDim
	}
	return 0
}

// Raw returns the N×784 matrix of pixels / 255.
func Raw(ds *mnist.Dataset) *matrixio.Matrix {
	m := matrixio.NewMatrix(ds.N(), mnist.ImagePixels)
	for i, p := range ds.Pixels {
		m.Data[i] = float64(p) / 255
	}
	return m
}

// ReLUOptions configures ReLU.
type ReLUOptions struct {
	// Features is F, the number of random features (must be > 0).
	Features int
	// Seed seeds the PCG generator that draws W.
	Seed uint64
	// progress.Report, if not nil, is called after each chunk.
	Progress func(progress.Report)
}

// ReLUWeights returns the 784×F matrix W with entries drawn i.i.d. N(0, 1) from
// rand.New(rand.NewPCG(seed, seed)), row-major, so the basis is the same on every backend.
func ReLUWeights(features int, seed uint64) *matrixio.Matrix {
	rng := rand.New(rand.NewPCG(seed, seed))
	w := matrixio.NewMatrix(mnist.ImagePixels, features)
	for i := range w.Data {
		w.Data[i] = rng.NormFloat64()
	}
	return w
}

// ReLU returns the random-features basis relu(X W)/sqrt(F) of the pixels X = Raw(ds), with
// W = ReLUWeights(F, seed) (Rahimi & Recht, "Random features for large-scale kernel machines", 2007;
// with ReLU this approximates the arc-cosine kernel of Cho & Saul, 2009). It runs in float64 on b.
func ReLU(ctx context.Context, b compute.Backend, ds *mnist.Dataset, opts ReLUOptions) (*matrixio.Matrix, error) {
	f := opts.Features
	if f <= 0 {
		return nil, fmt.Errorf("relu basis: %d features, want > 0", f)
	}
	x := Raw(ds)
	w := ReLUWeights(f, opts.Seed)
	scale := 1 / math.Sqrt(float64(f))
	exec, err := gomlxutil.NewExec(b, func(xc, w *graph.Node) *graph.Node {
		z := graph.DotGeneral(xc, []int{1}, nil, w, []int{0}, nil)
		return graph.MulScalar(graph.Max(z, graph.ZerosLike(z)), scale)
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	out := matrixio.NewMatrix(x.Rows, f)
	wt := gomlxutil.TensorFromMatrix(w)
	defer wt.FinalizeAll()
	ch := gomlxutil.NewChunker(b, x, 0)
	ch.Rows = gomlxutil.ChunkRows(x.Rows, max(f, x.Cols), 0)
	done := 0
	err = ch.Run(ctx, exec, []any{wt}, func() {
		done++
		if opts.Progress != nil {
			opts.Progress(progress.Report{Stage: "ReLU features", Done: done, Total: ch.Chunks()})
		}
	}, func(lo, hi int, o []*tensors.Tensor) error {
		return tensors.ConstFlatData(o[0], func(flat []float64) {
			copy(out.Data[lo*f:hi*f], flat[:(hi-lo)*f])
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
