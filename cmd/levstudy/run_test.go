package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
)

func dataDir(t *testing.T) string {
	dir := mnist.DefaultDataDir()
	if _, err := os.Stat(filepath.Join(dir, mnist.Files()[0].Name)); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("MNIST data missing in %s under CI: run `make data`", dir)
		}
		t.Skipf("MNIST data not installed in %s: run `make data`", dir)
	}
	return dir
}

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	t.Setenv("GOMLX_BACKEND", "go")
	err := run(context.Background(), &stdout, &stderr, args)
	return stdout.String(), stderr.String(), err
}

func TestLeverageCommand(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	cache := filepath.Join(dir, "cache")
	out := filepath.Join(dir, "raw.csv")
	stdout, stderr, err := runCLI(t, "leverage", "-data", data, "-cache", cache, "-rows", "1000", "-basis", "raw", "-out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stderr, "rank ") {
		t.Errorf("stdout %q stderr %q", stdout, stderr)
	}
	tab, err := matrixio.ReadLeverageCSV(out)
	if err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, v := range tab.Scores {
		s += v
	}
	if len(tab.Scores) != 1000 || tab.Label[0] != 5 || tab.Split[999] != "train" {
		t.Errorf("%d rows, label[0]=%d", len(tab.Scores), tab.Label[0])
	}
	// Σℓ equals the printed rank.
	var rank int
	for _, f := range strings.Fields(stderr[strings.Index(stderr, "rank "):]) {
		if n, err := strconv.Atoi(strings.TrimSuffix(f, ",")); err == nil {
			rank = n
			break
		}
	}
	if rank == 0 || abs(s-float64(rank)) > 1e-8 {
		t.Errorf("Σℓ = %v, printed rank %d", s, rank)
	}
	// The relu basis and the qr method to stdout.
	stdout, stderr, err = runCLI(t, "leverage", "-data", data, "-cache", "", "-rows", "100", "-basis", "relu",
		"-relu-features", "50", "-relu-seed", "2", "-method", "qr", "-out", "-")
	if err != nil || !strings.HasPrefix(stdout, "index,split,label,leverage\n0,train,5,") {
		t.Errorf("relu to stdout: %v %q %s", err, stdout[:min(80, len(stdout))], stderr)
	}
	if !strings.Contains(stderr, "relu:F=50,seed=2") {
		t.Errorf("stderr does not name the basis: %s", stderr)
	}
}

func TestFiguresCommand(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	stdout, stderr, err := runCLI(t, "figures", "-data", data, "-cache", "", "-rows", "1000", "-k", "50", "-out", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, f := range []string{"raw_exact_top50.png", "raw_exact_bottom50.svg", "raw_exact_scores.png", "raw_exact_scores.svg"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v", f, err)
		}
		if !strings.Contains(stdout, f) {
			t.Errorf("stdout does not list %s", f)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, ""},
		{"unknown command", []string{"levrage"}, ""},
		{"unknown basis", []string{"leverage", "-basis", "cnn2", "-out", "x.csv"}, `flag -basis: unknown basis "cnn2"`},
		{"bad relu parameter", []string{"leverage", "-basis", "relu:F=0", "-out", "x.csv"}, "F must be in 1..16384"},
		{"unknown method", []string{"leverage", "-method", "svd", "-out", "x.csv"}, `flag -method: unknown leverage method "svd"`},
		{"missing out", []string{"leverage"}, "flag -out: missing"},
		{"negative rows", []string{"leverage", "-rows", "-5", "-out", "x.csv"}, "flag -rows: -5"},
		{"missing data", []string{"leverage", "-data", empty, "-out", "x.csv"}, "looked in " + empty},
		{"bad k", []string{"figures", "-k", "15", "-out", empty}, "flag -k: 15"},
		{"bad backend", []string{"leverage", "-data", "", "-backend", "tpu9", "-out", "x.csv"}, ""},
		{"install without from", []string{"install-data"}, "flag -from: missing"},
		{"extra argument", []string{"leverage", "-out", "x.csv", "extra"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, tc.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			if tc.want == "" && !errors.Is(err, errUsage) && !strings.Contains(err.Error(), "backend") && !strings.Contains(err.Error(), "looked in") {
				t.Errorf("error %v; stderr %s", err, stderr)
			}
			if exitCode(err) == 0 {
				t.Error("exit code 0")
			}
		})
	}
}

func TestBackendError(t *testing.T) {
	dataDir(t)
	_, _, err := runCLI(t, "leverage", "-rows", "10", "-backend", "tpu9", "-out", filepath.Join(t.TempDir(), "x.csv"))
	if err == nil || !strings.Contains(err.Error(), `flag -backend: backend "tpu9"`) {
		t.Errorf("got %v", err)
	}
	_, _, err = runCLI(t, "leverage", "-rows", "10", "-backend", "xla:cuda", "-out", filepath.Join(t.TempDir(), "x.csv"))
	if err == nil || !strings.Contains(err.Error(), "PJRT") {
		t.Errorf("xla:cuda without a plugin: got %v", err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestCNNCommands(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	cache := filepath.Join(dir, "cache")
	stdout, stderr, err := runCLI(t, "train-cnn", "-data", data, "-cache", cache, "-rows", "300", "-group", "B", "-seed", "2", "-epochs", "1", "-train-rows", "128")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "epoch 1: loss") || !strings.Contains(stdout, "mnist-cnn-B2-") {
		t.Errorf("train-cnn stdout %q", stdout)
	}
	npy := filepath.Join(dir, "b2.npy")
	stdout, stderr, err = runCLI(t, "embed", "-data", data, "-cache", cache, "-rows", "300", "-basis", "cnn:B2", "-epochs", "1", "-train-rows", "128", "-out", npy)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	b, err := os.ReadFile(npy)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(b[8]) | int(b[9])<<8
	if string(b[:6]) != "\x93NUMPY" || !strings.Contains(string(b[10:10+hl]), "'shape': (300, 200)") || len(b) != 10+hl+300*200*4 || (10+hl)%64 != 0 {
		t.Errorf("bad .npy: header %q, %d bytes", b[:10+hl], len(b))
	}
	// The same network is found in the cache, not retrained.
	stdout, _, err = runCLI(t, "train-cnn", "-data", data, "-cache", cache, "-rows", "300", "-group", "B", "-seed", "2", "-epochs", "1", "-train-rows", "128")
	if err != nil || !strings.Contains(stdout, "(0.") {
		t.Errorf("second train-cnn: %v %q", err, stdout)
	}
	if _, _, err := runCLI(t, "embed", "-data", data, "-basis", "raw", "-out", npy); err == nil || !strings.Contains(err.Error(), "not a CNN basis") {
		t.Errorf("embed raw: %v", err)
	}
	if _, _, err := runCLI(t, "train-cnn", "-data", data, "-group", "D"); err == nil || !strings.Contains(err.Error(), "flag -group") {
		t.Errorf("group D: %v", err)
	}
	files, _ := filepath.Glob("../../../shared/original-study/networks/mnist-cnn-C1-*.pth")
	if len(files) == 0 {
		t.Skip("../shared/original-study is absent: skipping the torch: basis")
	}
	out := filepath.Join(dir, "c1.csv")
	_, stderr, err = runCLI(t, "leverage", "-data", data, "-cache", cache, "-rows", "300", "-basis", "torch:"+files[0], "-out", out)
	if err != nil || !strings.Contains(stderr, "300 rows × 200 columns") {
		t.Errorf("torch basis: %v\n%s", err, stderr)
	}
	bad := filepath.Join(dir, "bad.pth")
	os.WriteFile(bad, []byte("nope"), 0o644)
	if _, _, err := runCLI(t, "leverage", "-data", data, "-rows", "30", "-basis", "torch:"+bad, "-out", out); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad .pth: %v", err)
	}
}

// TestQ1Command runs `levstudy q1` with the linear classifier at k = 200 in both precisions and
// checks the protocol in results.json states the one asked for (-linear-float64) and that both fits
// learn (test accuracy above 0.5; chance is 0.1).
func TestQ1Command(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	for _, c := range []struct {
		flags []string
		want  string
	}{{nil, "in float32"}, {[]string{"-linear-float64"}, "in float64"}} {
		out := filepath.Join(dir, strings.TrimPrefix(c.want, "in "))
		args := append([]string{"q1", "-data", data, "-cache", "", "-bases", "raw", "-train-eval-rows", "2000", "-classifier", "linear",
			"-strategies", "top,random", "-k", "200", "-seeds", "2", "-out", out}, c.flags...)
		if _, stderr, err := runCLI(t, args...); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		raw, err := os.ReadFile(filepath.Join(out, "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Protocol map[string]string `json:"protocol"`
			Rows     []struct {
				AccTest float64 `json:"acc_test"`
			} `json:"rows"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(res.Protocol["linear"], c.want) {
			t.Errorf("%v: protocol %q, want it to end %q", c.flags, res.Protocol["linear"], c.want)
		}
		if len(res.Rows) == 0 {
			t.Fatalf("%v: no rows in results.json", c.flags)
		}
		for _, r := range res.Rows {
			if r.AccTest < 0.5 {
				t.Errorf("%v: test accuracy %.3f", c.flags, r.AccTest)
			}
		}
	}
}

func TestRankCorrAndQ2Commands(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	cache := filepath.Join(dir, "cache")
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	// Two random-feature bases with N > D (raw on 400 rows has rank 400: every ℓ = 1, no ranking).
	for _, x := range [][2]string{{"relu:F=100,seed=2", a}, {"relu:F=200,seed=3", b}} {
		if _, stderr, err := runCLI(t, "leverage", "-data", data, "-cache", cache, "-rows", "400", "-basis", x[0], "-out", x[1]); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
	}
	stdout, _, err := runCLI(t, "rankcorr", "-json", "-k", "10,50", a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got rankCorrJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if got.N != 400 || got.KendallTauB <= 0 || got.KendallTauB > 1 || len(got.Overlap) != 2 || got.Overlap[1].K != 50 ||
		math.Abs(got.NullSD-math.Sqrt(2*805.0/(9*400*399))) > 1e-15 {
		t.Errorf("rankcorr: %+v", got)
	}
	for _, key := range []string{`"kendall_tau_b"`, `"spearman"`, `"weighted_tau"`, `"swap_distance"`, `"null_sd"`, `"overlap"`, `"jaccard"`} {
		if !strings.Contains(stdout, key) {
			t.Errorf("rankcorr JSON lacks %s", key)
		}
	}
	short := filepath.Join(dir, "short.csv")
	if _, stderr, err := runCLI(t, "leverage", "-data", data, "-cache", cache, "-rows", "300", "-basis", "relu:F=100,seed=2", "-out", short); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if _, _, err := runCLI(t, "rankcorr", a, short); err == nil || !strings.Contains(err.Error(), "400 rows") {
		t.Errorf("different lengths: %v", err)
	}
	if _, _, err := runCLI(t, "rankcorr", a); !errors.Is(err, errUsage) {
		t.Errorf("one file: %v", err)
	}
	out := filepath.Join(dir, "q2")
	stdout, stderr, err := runCLI(t, "q2", "-data", data, "-cache", cache, "-rows", "1000", "-bases", "raw,relu:F=200,seed=3,cnn:C1,cnn:C2", "-k", "20,100", "-out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "tau-b C–C") || !strings.Contains(stdout, "pairs.csv") {
		t.Errorf("q2 stdout: %s", stdout)
	}
	for _, f := range []string{"pairs.csv", "summary.json", "figures/q2_kendall_tau_b.png", "figures/q2_consensus_C_top100.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := runCLI(t, "q2", "-data", data, "-bases", "raw", "-out", out); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("one basis: %v", err)
	}
	if _, _, err := runCLI(t, "q2", "-data", data, "-bases", "raw,relu", "-k", "10,x", "-out", out); err == nil || !strings.Contains(err.Error(), "flag -k") {
		t.Errorf("bad k: %v", err)
	}
}
