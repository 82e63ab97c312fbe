package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the coverage of every interval in this package: 95%, two-sided.
const Confidence = 0.95

// ErrNonFinite is wrapped by the error for a NaN or ±Inf value.
var ErrNonFinite = errors.New("non-finite value")

// checkFinite returns an error naming the first NaN or ±Inf in v, e.g. "non-finite value: a[3] = NaN".
func checkFinite(name string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNonFinite, name, i, x)
		}
	}
	return nil
}

// tQuantile returns t_{p,ν}, the p-quantile of Student's t distribution with ν > 0 degrees of freedom:
// gonum's distuv.StudentsT, through its regularized incomplete beta function. Against
// scipy.stats.t.ppf(0.975, ν) it is off by at most 5.9e-10 relative (at ν = 1.5; ≤ 4.2e-10 for
// ν ∈ {2, …, 1e6} in the tests) — limited by gonum's incomplete beta (a Newton step on its CDF
// changes nothing), and a billionth of an interval's width.
func tQuantile(p, nu float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.Quantile(p)
}

// tHalfWidth is the half-width t_{0.975,ν}·se of a two-sided 95% t interval.
func tHalfWidth(se, nu float64) float64 {
	if se == 0 {
		return 0
	}
	return tQuantile(1-(1-Confidence)/2, nu) * se
}

// Summary describes a sample x_1…x_n (e.g. one strategy's test accuracy over seeds).
//
// For N ≥ 2 the interval is Student's t interval of the mean (Student, "The probable error of a
// mean", Biometrika 6, 1908; scipy.stats.t.interval(0.95, n−1, loc=mean, scale=SE) computes the same):
//
//	Lo, Hi = Mean ∓ t_{0.975, n−1} · SE,   SE = SD/√n,   SD² = Σ(x_i − Mean)²/(n − 1).
//
// It assumes the values are independent draws (seeds) from a distribution close enough to normal for
// the mean; with 5–10 seeds it is wide (t_{0.975,4} = 2.78), as it should be.
//
// For N < 2 no interval exists. Rather than NaN (which encoding/json cannot write), HasCI is false,
// SD and SE are 0 and [Lo, Hi] is the point [Mean, Mean]: test HasCI before reading them. For N = 0
// every field is 0.
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"` // sample standard deviation (n − 1 in the denominator)
	SE   float64 `json:"se"` // SD/√N, the standard error of the mean
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// HasCI is true when N ≥ 2, so that SD, SE, Lo and Hi are defined.
	HasCI bool    `json:"has_ci"`
	Lo    float64 `json:"ci_lo"` // 95% interval of the mean
	Hi    float64 `json:"ci_hi"`
}

// Describe summarizes the values v (not modified): see Summary. The mean and SD are computed by the
// corrected two-pass algorithm (see meanSD). A NaN or ±Inf value is an error wrapping
// ErrNonFinite; an empty v gives the zero Summary and no error.
func Describe(v []float64) (Summary, error) {
	if err := checkFinite("v", v); err != nil {
		return Summary{}, err
	}
	n := len(v)
	if n == 0 {
		return Summary{}, nil
	}
	s := Summary{N: n, Min: v[0], Max: v[0]}
	sum := 0.0
	for _, x := range v {
		sum += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	s.Mean = sum / float64(n)
	if n == 1 {
		s.Lo, s.Hi = s.Mean, s.Mean
		return s, nil
	}
	s.Mean, s.SD = meanSD(v)
	s.SE = s.SD / math.Sqrt(float64(n))
	h := tHalfWidth(s.SE, float64(n-1))
	s.HasCI, s.Lo, s.Hi = true, s.Mean-h, s.Mean+h
	return s, nil
}

// meanSD returns the mean and the sample SD (n − 1) of v, len(v) ≥ 2, with gonum's
// stat.MeanVariance: the corrected two-pass algorithm (Chan, Golub & LeVeque, "Algorithms for
// computing the sample variance", The American Statistician 37, 1983), Σ(x − m)² − (Σ(x − m))²/n.
func meanSD(v []float64) (mean, sd float64) {
	mean, variance := stat.MeanVariance(v, nil)
	return mean, math.Sqrt(math.Max(0, variance))
}

// String writes the summary for a table or a log line: "0.9123 [0.9050, 0.9196] (n=5)", "0.9123
// (n=1, no interval)" or "no values".
func (s Summary) String() string {
	switch {
	case s.N == 0:
		return "no values"
	case !s.HasCI:
		return fmt.Sprintf("%.4g (n=%d, no interval)", s.Mean, s.N)
	}
	return fmt.Sprintf("%.4g [%.4g, %.4g] (n=%d)", s.Mean, s.Lo, s.Hi, s.N)
}
