package stats

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// reference is testdata/scipy_reference.json, made by testdata/stats_reference.py with scipy 1.10.1.
type reference struct {
	Source   string
	Describe []struct {
		Name                 string
		X                    []float64
		Mean, SD, SE, Lo, Hi float64
	}
	TQuantiles []struct{ DF, Q975 float64 } `json:"t_quantiles"`
	Welch      []struct {
		Name                     string
		A, B                     []float64
		Statistic, PValue        float64
		Estimate, SE, DF, Lo, Hi float64
	}
	Paired []struct {
		Name              string
		A, B              []float64
		Statistic, PValue float64
		DF, Lo, Hi        float64
	}
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/scipy_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Describe) < 6 || len(ref.TQuantiles) < 10 || len(ref.Welch) < 5 || len(ref.Paired) < 3 {
		t.Fatalf("reference incomplete: %d, %d, %d, %d cases", len(ref.Describe), len(ref.TQuantiles), len(ref.Welch), len(ref.Paired))
	}
	return ref
}

// close reports |got − want| ≤ tol·max(1, |want|).
func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// closeInterval compares intervals by centre (to 1e-12) and half-width (to 1e-9 relative: the
// accuracy of gonum's t quantile, see tQuantile).
func closeInterval(lo, hi, wantLo, wantHi float64) bool {
	return close((lo+hi)/2, (wantLo+wantHi)/2, 1e-12) && math.Abs((hi-lo)-(wantHi-wantLo)) <= 1e-9*(wantHi-wantLo)
}

// TestTQuantileAgainstScipy checks gonum's Student t quantile against scipy.stats.t.ppf(0.975, df) to
// 1e-9 relative (measured: 5.9e-10 at df 1.5, 4.2e-10 at 6.59, 3.8e-10 at 5, ≤ 5e-11 elsewhere), for
// integer and fractional df (Welch's df is fractional) from 1 to 1e6.
func TestTQuantileAgainstScipy(t *testing.T) {
	for _, c := range loadReference(t).TQuantiles {
		if got := tQuantile(0.975, c.DF); math.Abs(got-c.Q975) > 1e-9*c.Q975 {
			t.Errorf("t_{0.975, %g} = %.15g, scipy %.15g", c.DF, got, c.Q975)
		}
	}
}

// TestDescribeAgainstScipy checks mean, SD, SE and the 95% interval against numpy and scipy's
// ttest_1samp(x, 0).confidence_interval(0.95): the mean to 1e-12 (relative to max(1, |mean|)), the
// interval by closeInterval, SD and SE to 1e-9 relative (the large-offset case, values 1e6 ± 1e-3,
// checks the two-pass SD).
func TestDescribeAgainstScipy(t *testing.T) {
	for _, c := range loadReference(t).Describe {
		t.Run(c.Name, func(t *testing.T) {
			s, err := Describe(c.X)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != len(c.X) || !s.HasCI {
				t.Errorf("N %d HasCI %t", s.N, s.HasCI)
			}
			if !close(s.Mean, c.Mean, 1e-12) || !closeInterval(s.Lo, s.Hi, c.Lo, c.Hi) {
				t.Errorf("mean %.15g [%.15g, %.15g], scipy %.15g [%.15g, %.15g]", s.Mean, s.Lo, s.Hi, c.Mean, c.Lo, c.Hi)
			}
			if math.Abs(s.SD-c.SD) > 1e-9*c.SD || math.Abs(s.SE-c.SE) > 1e-9*c.SE {
				t.Errorf("sd %.15g se %.15g, numpy %.15g %.15g", s.SD, s.SE, c.SD, c.SE)
			}
			if s.Min > s.Mean || s.Max < s.Mean || s.Lo > s.Mean || s.Hi < s.Mean {
				t.Errorf("min/max/interval do not hold the mean: %+v", s)
			}
		})
	}
}

// TestWelchAgainstScipy checks WelchDiff against scipy.stats.ttest_ind(a, b, equal_var=False): the
// statistic Estimate/SE to 1e-12, the two-sided p-value from our df (2·P(T_ν > |t|)) to 1e-9, which
// tests our df against scipy's internal one, and df and interval against the formula evaluated with
// numpy to 1e-12 and scipy.stats.t.interval by closeInterval.
func TestWelchAgainstScipy(t *testing.T) {
	for _, c := range loadReference(t).Welch {
		t.Run(c.Name, func(t *testing.T) {
			d, err := WelchDiff(c.A, c.B)
			if err != nil {
				t.Fatal(err)
			}
			stat := d.Estimate / d.SE
			p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: d.DF}.Survival(math.Abs(stat))
			if !close(stat, c.Statistic, 1e-12) || math.Abs(p-c.PValue) > 1e-9 {
				t.Errorf("t = %.15g, p = %.12g; scipy t = %.15g, p = %.12g", stat, p, c.Statistic, c.PValue)
			}
			for _, v := range []struct {
				what      string
				got, want float64
			}{{"estimate", d.Estimate, c.Estimate}, {"se", d.SE, c.SE}, {"df", d.DF, c.DF}} {
				if !close(v.got, v.want, 1e-12) {
					t.Errorf("%s = %.15g, reference %.15g", v.what, v.got, v.want)
				}
			}
			if !closeInterval(d.Lo, d.Hi, c.Lo, c.Hi) {
				t.Errorf("[%.15g, %.15g], reference [%.15g, %.15g]", d.Lo, d.Hi, c.Lo, c.Hi)
			}
			if d.Method != MethodWelch || d.NA != len(c.A) || d.NB != len(c.B) {
				t.Errorf("%+v", d)
			}
			if lo, hi := float64(min(d.NA, d.NB)-1), float64(d.NA+d.NB-2); d.DF < lo-1e-12 || d.DF > hi+1e-12 {
				t.Errorf("df %v outside [%v, %v]", d.DF, lo, hi)
			}
		})
	}
}

// TestWelchHandExample works a = {1,2,3,4}, b = {2,4,6,8,10,12} by hand: s_a²/n_a = (5/3)/4 = 5/12,
// s_b²/n_b = 14/6 = 7/3, SE² = 11/4, ν = (11/4)² / ((5/12)²/3 + (7/3)²/5) = 16335/2477 ≈ 6.5947.
func TestWelchHandExample(t *testing.T) {
	d, err := WelchDiff([]float64{1, 2, 3, 4}, []float64{2, 4, 6, 8, 10, 12})
	if err != nil {
		t.Fatal(err)
	}
	if d.Estimate != -4.5 || !close(d.SE*d.SE, 11.0/4, 1e-15) || !close(d.DF, 16335.0/2477, 1e-14) {
		t.Errorf("%+v, want estimate −4.5, SE² 2.75, df %.15g", d, 16335.0/2477)
	}
	if d.Sign() != -1 {
		t.Errorf("sign %d, want −1 (interval [%v, %v])", d.Sign(), d.Lo, d.Hi)
	}
}

// TestPairedAgainstScipy checks PairedDiff against scipy.stats.ttest_rel(a, b): statistic, df and
// confidence_interval(0.95) (statistic to 1e-12, interval by closeInterval).
func TestPairedAgainstScipy(t *testing.T) {
	for _, c := range loadReference(t).Paired {
		t.Run(c.Name, func(t *testing.T) {
			d, err := PairedDiff(c.A, c.B)
			if err != nil {
				t.Fatal(err)
			}
			if !close(d.Estimate/d.SE, c.Statistic, 1e-12) || d.DF != c.DF || !closeInterval(d.Lo, d.Hi, c.Lo, c.Hi) {
				t.Errorf("%+v (t = %.15g); scipy t = %.15g, df %v, [%.15g, %.15g]", d, d.Estimate/d.SE, c.Statistic, c.DF, c.Lo, c.Hi)
			}
		})
	}
}

// TestSmallSamples pins the N = 0 and N = 1 conventions and that every result marshals to JSON.
func TestSmallSamples(t *testing.T) {
	s0, err := Describe(nil)
	if err != nil || s0 != (Summary{}) || s0.String() != "no values" {
		t.Errorf("N=0: %+v %v", s0, err)
	}
	s1, err := Describe([]float64{0.75})
	want := Summary{N: 1, Mean: 0.75, Min: 0.75, Max: 0.75, Lo: 0.75, Hi: 0.75}
	if err != nil || s1 != want || s1.String() != "0.75 (n=1, no interval)" {
		t.Errorf("N=1: %+v %q %v, want %+v", s1, s1.String(), err, want)
	}
	s2, _ := Describe([]float64{1, 3})
	// t_{0.975,1} = tan(0.475π) = 12.7062047361747 (Cauchy), SE = sqrt(2)/sqrt(2) = 1.
	if !s2.HasCI || s2.SD != math.Sqrt2 || !close(s2.Hi, 2+12.7062047361747, 1e-10) {
		t.Errorf("N=2: %+v", s2)
	}
	c, _ := Describe([]float64{5, 5, 5})
	if !c.HasCI || c.SD != 0 || c.Lo != 5 || c.Hi != 5 {
		t.Errorf("constant: %+v", c)
	}
	for _, v := range []any{s0, s1, s2, c} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("marshal %+v: %v", v, err)
		}
		if !strings.Contains(string(b), `"has_ci"`) || !strings.Contains(string(b), `"ci_lo"`) {
			t.Errorf("json %s", b)
		}
	}
	d, err := WelchDiff([]float64{2, 2}, []float64{1, 1, 1})
	if err != nil || d.SE != 0 || d.DF != 3 || d.Lo != 1 || d.Hi != 1 || d.Sign() != 1 {
		t.Errorf("both constant: %+v %v", d, err)
	}
	if _, err := json.Marshal(d); err != nil {
		t.Error(err)
	}
}

func TestErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	if _, err := Describe([]float64{1, nan}); !errors.Is(err, ErrNonFinite) || err.Error() != "non-finite value: v[1] = NaN" {
		t.Errorf("Describe NaN: %v", err)
	}
	if _, err := Describe([]float64{inf}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Describe Inf: %v", err)
	}
	for _, tc := range []struct {
		name string
		f    func([]float64, []float64) (Diff, error)
		a, b []float64
		want string
	}{
		{"welch n_a=1", WelchDiff, []float64{1}, []float64{1, 2}, "at least 2"},
		{"welch n_b=0", WelchDiff, []float64{1, 2}, nil, "at least 2"},
		{"welch NaN", WelchDiff, []float64{1, 2}, []float64{1, nan}, "b[1] = NaN"},
		{"paired length", PairedDiff, []float64{1, 2, 3}, []float64{1, 2}, "differ in length"},
		{"paired n=1", PairedDiff, []float64{1}, []float64{2}, "at least 2"},
		{"paired Inf", PairedDiff, []float64{inf, 2}, []float64{1, 2}, "a[0] = +Inf"},
	} {
		if _, err := tc.f(tc.a, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func TestSign(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   int
	}{{-2, -1, -1}, {-1, 1, 0}, {1, 2, 1}, {0, 1, 0}, {-1, 0, 0}, {0, 0, 0}, {-1e-300, -1e-301, -1}} {
		if got := (Diff{Lo: tc.lo, Hi: tc.hi}).Sign(); got != tc.want {
			t.Errorf("[%v, %v]: %d, want %d", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// TestCoverage draws seeded normal samples and checks that the 95% intervals cover the true value in
// 95% ± 1.2% of 4000 trials (±3.5 binomial SE): the mean of n = 5; Welch with n = 4 and 9 and SDs 1
// and 4 (the Behrens–Fisher setting, where the pooled interval would not hold); paired with a shared
// per-pair effect of SD 3 and noise of SD 0.5, n = 6, where the paired interval is also narrower than
// Welch's on average.
func TestCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261130, 1))
	const trials = 4000
	draw := func(n int, mu, sd float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = mu + sd*rng.NormFloat64()
		}
		return v
	}
	var mean, welch, paired int
	var widthPaired, widthWelch float64
	for range trials {
		s, _ := Describe(draw(5, 3, 2))
		if s.Lo <= 3 && 3 <= s.Hi {
			mean++
		}
		d, _ := WelchDiff(draw(4, 1, 1), draw(9, 0, 4))
		if d.Lo <= 1 && 1 <= d.Hi {
			welch++
		}
		shared := draw(6, 0, 3)
		a, b := draw(6, 0.2, 0.5), draw(6, 0, 0.5)
		for i := range shared {
			a[i] += shared[i]
			b[i] += shared[i]
		}
		p, _ := PairedDiff(a, b)
		if p.Lo <= 0.2 && 0.2 <= p.Hi {
			paired++
		}
		w, _ := WelchDiff(a, b)
		widthPaired += p.Hi - p.Lo
		widthWelch += w.Hi - w.Lo
	}
	for _, c := range []struct {
		what string
		hit  int
	}{{"mean", mean}, {"welch", welch}, {"paired", paired}} {
		if f := float64(c.hit) / trials; math.Abs(f-Confidence) > 0.012 {
			t.Errorf("%s: coverage %.4f, want 0.95 ± 0.012", c.what, f)
		}
	}
	if widthPaired > widthWelch/2 {
		t.Errorf("paired interval width %.3g not well below Welch's %.3g with a shared effect", widthPaired/trials, widthWelch/trials)
	}
}

// TestConstDiff checks the constant-minus-sample interval against the one-sample t interval of b:
// a − [Lo_b, Hi_b] reversed.
func TestConstDiff(t *testing.T) {
	b := []float64{0.80, 0.82, 0.79, 0.85, 0.81}
	sb, err := Describe(b)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ConstDiff(0.70, b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(d.Estimate-(0.70-sb.Mean)) > 1e-15 || math.Abs(d.Lo-(0.70-sb.Hi)) > 1e-12 || math.Abs(d.Hi-(0.70-sb.Lo)) > 1e-12 ||
		d.DF != 4 || d.NA != 1 || d.NB != 5 || d.Method != MethodConst || d.Sign() != -1 {
		t.Errorf("ConstDiff = %+v, want 0.70 − %+v", d, sb)
	}
	if _, err := ConstDiff(math.NaN(), b); err == nil {
		t.Error("NaN constant: no error")
	}
	if _, err := ConstDiff(1, b[:1]); err == nil {
		t.Error("one value in b: no error")
	}
}
