package stats

import (
	"fmt"
	"math"
)

// Methods of a Diff.
const (
	MethodWelch  = "welch"
	MethodPaired = "paired"
	MethodConst  = "const"
)

// Diff is a difference of means, A − B (e.g. accuracy of "top" minus accuracy of "random"), with its
// 95% interval. Every field is finite, so a Diff marshals to JSON.
type Diff struct {
	Method   string  `json:"method"`   // MethodWelch, MethodPaired or MethodConst
	Estimate float64 `json:"estimate"` // mean(a) − mean(b)
	SE       float64 `json:"se"`       // standard error of Estimate
	DF       float64 `json:"df"`       // degrees of freedom of the t quantile
	Lo       float64 `json:"lo"`       // 95% interval of the difference
	Hi       float64 `json:"hi"`
	NA       int     `json:"n_a"`
	NB       int     `json:"n_b"`
}

// Sign decides the comparison at 95%: −1 when the interval lies entirely below 0 (A below B), +1 when
// it lies entirely above 0, 0 when it contains 0 (the data cannot tell A from B). An interval that
// touches 0 (Lo = 0 or Hi = 0) contains it.
func (d Diff) Sign() int {
	switch {
	case d.Hi < 0:
		return -1
	case d.Lo > 0:
		return 1
	}
	return 0
}

// String writes the difference for a table: "−0.0123 [−0.0200, −0.0046] (welch, df 7.3)".
func (d Diff) String() string {
	return fmt.Sprintf("%+.4g [%+.4g, %+.4g] (%s, df %.3g)", d.Estimate, d.Lo, d.Hi, d.Method, d.DF)
}

// WelchDiff estimates mean(a) − mean(b) for two independent samples with Welch's t interval, which does
// not assume equal variances (B. L. Welch, "The generalization of 'Student's' problem when several
// different population variances are involved", Biometrika 34, 1947; the degrees of freedom are
// Satterthwaite's, "An approximate distribution of estimates of variance components", Biometrics
// Bulletin 2, 1946):
//
//	SE² = s_a²/n_a + s_b²/n_b,
//	ν   = SE⁴ / ( (s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1) ),
//	[Lo, Hi] = (m_a − m_b) ∓ t_{0.975, ν} · SE,
//
// with m and s² the sample means and variances (n − 1). scipy.stats.ttest_ind(a, b, equal_var=False)
// computes the same statistic (m_a − m_b)/SE and ν; the tests check against it. ν lies between
// min(n_a, n_b) − 1 and n_a + n_b − 2.
//
// When both samples are constant SE = 0 and ν is 0/0: the interval is the point [m_a − m_b, m_a − m_b]
// and DF is reported as n_a + n_b − 2. Each sample needs n ≥ 2 (else there is no variance to estimate):
// fewer, or a NaN or ±Inf value, is an error. a and b are not modified.
func WelchDiff(a, b []float64) (Diff, error) {
	if err := checkSamples(a, b); err != nil {
		return Diff{}, err
	}
	ma, sa := meanSD(a)
	mb, sb := meanSD(b)
	na, nb := float64(len(a)), float64(len(b))
	va, vb := sa*sa/na, sb*sb/nb
	d := Diff{Method: MethodWelch, Estimate: ma - mb, SE: math.Sqrt(va + vb), NA: len(a), NB: len(b)}
	if d.SE == 0 {
		d.DF = na + nb - 2
	} else {
		d.DF = (va + vb) * (va + vb) / (va*va/(na-1) + vb*vb/(nb-1))
	}
	h := tHalfWidth(d.SE, d.DF)
	d.Lo, d.Hi = d.Estimate-h, d.Estimate+h
	return d, nil
}

// PairedDiff estimates mean(a − b) for paired samples — a[i] and b[i] share something that moves both,
// e.g. the classifier's initialization seed i when "top" and "random" are trained from the same
// init — with the t interval of the differences d_i = a_i − b_i (the paired t interval; scipy's
// ttest_rel(a, b) gives the same statistic):
//
//	SE = sd(d)/√n,  ν = n − 1,  [Lo, Hi] = mean(d) ∓ t_{0.975, n−1} · SE.
//
// When the pairing is real this interval is narrower than Welch's, because the shared part cancels in
// d_i; when it is not (independent seeds) it is valid but wastes degrees of freedom: use WelchDiff.
// If every d_i is equal SE = 0 and the interval is the point. a and b must have the same length n ≥ 2
// and finite values, else an error. a and b are not modified.
func PairedDiff(a, b []float64) (Diff, error) {
	if len(a) != len(b) {
		return Diff{}, fmt.Errorf("paired samples differ in length: %d and %d", len(a), len(b))
	}
	if err := checkSamples(a, b); err != nil {
		return Diff{}, err
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	n := len(d)
	m, s := meanSD(d)
	r := Diff{Method: MethodPaired, Estimate: m, SE: s / math.Sqrt(float64(n)), DF: float64(n - 1), NA: n, NB: n}
	h := tHalfWidth(r.SE, r.DF)
	r.Lo, r.Hi = m-h, m+h
	return r, nil
}

// ConstDiff estimates a − mean(b) where a is a constant, not a sample — the accuracy of a deterministic
// fit (a fixed selection and a classifier without a seed gives the same value every time) — with the
// t interval of mean(b):
//
//	SE = sd(b)/√n_b,  ν = n_b − 1,  [Lo, Hi] = (a − m_b) ∓ t_{0.975, n_b−1} · SE.
//
// NA is 1. b needs n ≥ 2 finite values and a must be finite, else an error.
func ConstDiff(a float64, b []float64) (Diff, error) {
	if err := checkSamples([]float64{a, a}, b); err != nil {
		return Diff{}, err
	}
	mb, sb := meanSD(b)
	n := float64(len(b))
	d := Diff{Method: MethodConst, Estimate: a - mb, SE: sb / math.Sqrt(n), DF: n - 1, NA: 1, NB: len(b)}
	h := tHalfWidth(d.SE, d.DF)
	d.Lo, d.Hi = d.Estimate-h, d.Estimate+h
	return d, nil
}

// checkSamples requires two samples of at least 2 finite values each.
func checkSamples(a, b []float64) error {
	if len(a) < 2 || len(b) < 2 {
		return fmt.Errorf("samples of %d and %d values: a difference interval needs at least 2 in each", len(a), len(b))
	}
	if err := checkFinite("a", a); err != nil {
		return err
	}
	return checkFinite("b", b)
}
