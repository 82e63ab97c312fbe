package gomlxutil

import (
	"math"

	"github.com/gomlx/gomlx/core/graph"
)

// Adam's hyperparameters, as PyTorch's defaults.
const (
	AdamBeta1 = 0.9
	AdamBeta2 = 0.999
	AdamEps   = 1e-8
)

// AdamUpdate is one Adam step (Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015) as
// PyTorch computes it, for a parameter p with gradient g and moments m, v:
//
//	m' = β₁m + (1−β₁)g,   v' = β₂v + (1−β₂)g²,   p' = p − c₁·m' / (√v'·c₂ + ε),
//
// with c₁ = lr/(1−β₁ᵗ) and c₂ = 1/√(1−β₂ᵗ) given as scalars (gomlxutil.AdamScalars), so one compiled graph
// serves every step. It is shared by the CNN and the linear classifier.
func AdamUpdate(p, g, m, v, c1, c2 *graph.Node) (newP, newM, newV *graph.Node) {
	newM = graph.Add(graph.MulScalar(m, AdamBeta1), graph.MulScalar(g, 1-AdamBeta1))
	newV = graph.Add(graph.MulScalar(v, AdamBeta2), graph.MulScalar(graph.Mul(g, g), 1-AdamBeta2))
	den := graph.AddScalar(graph.Mul(graph.Sqrt(newV), c2), AdamEps)
	return graph.Sub(p, graph.Mul(c1, graph.Div(newM, den))), newM, newV
}

// AdamScalars returns c₁ = lr/(1−β₁ᵗ) and c₂ = 1/√(1−β₂ᵗ) for step t ≥ 1.
func AdamScalars(lr float64, t int) (c1, c2 float64) {
	return lr / (1 - math.Pow(AdamBeta1, float64(t))), 1 / math.Sqrt(1-math.Pow(AdamBeta2, float64(t)))
}
