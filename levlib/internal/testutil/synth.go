package testutil

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/levstudy/levstudy/levlib/matrixio"
	"gonum.org/v1/gonum/mat"
)

// Synthetic returns an n×d matrix U diag(σ) Vᵀ with Haar-like random U, V (QR of Gaussians), the given
// singular values (zeros make it rank-deficient), then columns scaled by colScale[j] (nil: none).
func Synthetic(rng *rand.Rand, n, d int, sigma []float64, colScale []float64) *matrixio.Matrix {
	orth := func(rows, cols int) *mat.Dense {
		g := mat.NewDense(rows, cols, nil)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				g.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(g)
		var q mat.Dense
		qr.QTo(&q)
		return mat.DenseCopyOf(q.Slice(0, rows, 0, cols))
	}
	u, v := orth(n, d), orth(d, d)
	for j := 0; j < d; j++ {
		for i := 0; i < n; i++ {
			u.Set(i, j, u.At(i, j)*sigma[j])
		}
	}
	var x mat.Dense
	x.Mul(u, v.T())
	m := &matrixio.Matrix{Rows: n, Cols: d, Data: make([]float64, n*d)}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			s := 1.0
			if colScale != nil {
				s = colScale[j]
			}
			m.Data[i*d+j] = x.At(i, j) * s
		}
	}
	return m
}

func Geometric(d int, cond float64) []float64 {
	s := make([]float64, d)
	for i := range s {
		s[i] = math.Pow(cond, -float64(i)/float64(d-1))
	}
	return s
}

type SynthCase struct {
	Name     string
	X        *matrixio.Matrix
	WantRank int
}

func SynthCases() []SynthCase {
	rng := rand.New(rand.NewPCG(1, 2))
	n, d := 600, 40
	var cases []SynthCase
	cases = append(cases, SynthCase{"gaussian full rank", Synthetic(rng, n, d, Geometric(d, 10), nil), d})
	for _, cond := range []float64{1e4, 1e6, 1e8} {
		cases = append(cases, SynthCase{fmt.Sprintf("cond=%g", cond), Synthetic(rng, n, d, Geometric(d, cond), nil), d})
	}
	deficient := Geometric(d, 1e3)
	for j := 25; j < d; j++ {
		deficient[j] = 0
	}
	cases = append(cases, SynthCase{"rank 25 of 40", Synthetic(rng, n, d, deficient, nil), 25})
	scales := make([]float64, d)
	for j := range scales {
		scales[j] = math.Pow(1e6, float64(j)/float64(d-1)) // 1 … 1e6
	}
	cases = append(cases, SynthCase{"columns scaled 1..1e6", Synthetic(rng, n, d, Geometric(d, 100), scales), d})
	cases = append(cases, SynthCase{"cond=1e8, columns scaled 1..1e6", Synthetic(rng, n, d, Geometric(d, 1e8), scales), d})
	cases = append(cases, SynthCase{"rank 25, columns scaled", Synthetic(rng, n, d, deficient, scales), 25})
	zc := Synthetic(rng, n, d, Geometric(d, 10), nil)
	for i := 0; i < n; i++ {
		zc.Data[i*d+3], zc.Data[i*d+17] = 0, 0
	}
	cases = append(cases, SynthCase{"two zero columns", zc, d - 2})
	// More columns than rows: rank ≤ N, every leverage 1.
	cases = append(cases, SynthCase{"wide 30x40", Synthetic(rng, 30, 30, Geometric(30, 10), nil), 30})
	return cases
}
