package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.md")

// vsRows returns the rows of the levstudy vs PyTorch table, keyed by the workload cell, each as its cells.
func vsRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	_, vs, ok := strings.Cut(out, "### levstudy vs PyTorch CPU (same run)")
	if !ok {
		t.Fatalf("no comparison table in output:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(vs, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| workload") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows[cells[0]] = cells
	}
	return rows
}

func runFiles(t *testing.T, bench, torch string) (string, error) {
	t.Helper()
	in, err := os.Open(bench)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	err = run(in, &out, torch)
	return out.String(), err
}

const (
	levF32 = "leverage MNIST RAW (levstudy exact f64 vs torch QR f32)"
	levF64 = "leverage MNIST RAW (levstudy exact f64 vs torch QR f64)"
	train  = "CNN train, 1 epoch"
	embed  = "CNN embed (200-d)"
	linFit = "Q1 linear fits (k = 1000, 300 steps; levstudy q1.Fit in batches, PyTorch one at a time)"
	cnnFit = "Q1 cnn fits (k = 1000, 200 steps; levstudy q1.Fit in batches, PyTorch one at a time)"
)

func TestVsTorch(t *testing.T) {
	out, err := runFiles(t, "testdata/bench.txt", "testdata/torch.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "bench.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, out)
	}

	rows := vsRows(t, out)
	// Each check: levstudy cell, PyTorch cell, ratio. Torch medians pool all repeats of both runs:
	// QR f32 {2.0 1.9 2.1 2.4 2.2 2.6} -> 2.15 s; train {4.0 3.8 4.2 5.0 4.8 5.2} -> 4.5 s -> 1333 images/s.
	for _, c := range []struct{ workload, goCell, torchCell, ratio string }{
		// Times: ratio = PyTorch s / levstudy s (levstudy 40 s is slower: ratio < 1).
		{levF32, "40.0 s", "2.15 s [2.00, 2.40]", "0.054"},
		{levF64, "40.0 s", "4.10 s [4.00, 4.20]", "0.10"},
		// Throughputs: ratio = levstudy images/s / PyTorch images/s (levstudy faster at train: > 1).
		{train, "1992 images/s", "1333 images/s [1500, 1200]", "1.49"},
		{embed, "5000 images/s", "10000 images/s [10000, 10000]", "0.50"},
		// Fits per minute: the median of PyTorch's runs {50, 60} and {5, 6}.
		{linFit, "150 fits/min", "55.0 fits/min [50.0, 60.0]", "2.73"},
		{cnnFit, "10.0 fits/min", "5.50 fits/min [5.00, 6.00]", "1.82"},
	} {
		r := rows[c.workload]
		if r == nil {
			t.Errorf("no row %q", c.workload)
			continue
		}
		if r[1] != c.goCell || r[2] != c.torchCell || r[3] != c.ratio {
			t.Errorf("%s: got %q | %q | %q, want %q | %q | %q", c.workload, r[1], r[2], r[3], c.goCell, c.torchCell, c.ratio)
		}
		if !strings.HasPrefix(r[4], "target ≥ 1.0") && !strings.HasPrefix(r[4], "information") {
			t.Errorf("%s: note %q", c.workload, r[4])
		}
	}
	if !strings.Contains(out, "PyTorch 1.13.0a0, 2 threads, BLAS openblas") || !strings.Contains(out, "2 run(s)") {
		t.Errorf("header line missing version, threads, BLAS or run count:\n%s", out)
	}
}

// The first table is the same with or without -torch: every benchmark, a column per metric.
func TestFirstTableUnchanged(t *testing.T) {
	plain, err := runFiles(t, "testdata/bench.txt", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "PyTorch") {
		t.Errorf("comparison table printed without -torch:\n%s", plain)
	}
	want := "CPU: Intel(R) Xeon(R) CPU @ 2.20GHz\n\n" +
		"| benchmark | s/op | GFLOP/s | MiB/op | allocs/op | images/s | fits/min |\n" +
		"|---|---:|---:|---:|---:|---:|---:|\n" +
		"| Leverage/mnist-raw/method=exact/n=70000/d=784 | 47.560 | 7.073 | 1755.8 | 1231000 |  |  |\n" +
		"| CNN/train | 7.675 |  |  |  | 166.8 |  |\n" +
		"| VsTorch/leverage-raw-exact-f64 | 40.000 | 8.4 |  |  |  |  |\n" +
		"| VsTorch/cnn-train | 3.012 |  |  |  | 1992 |  |\n" +
		"| VsTorch/cnn-embed | 14.000 |  |  |  | 5000 |  |\n" +
		"| Q1Fits/classifier=linear | 10.000 |  |  |  |  | 150.0 |\n" +
		"| Q1Fits/classifier=cnn | 60.000 |  |  |  |  | 10.0 |\n"
	if plain != want {
		t.Errorf("got\n%s\nwant\n%s", plain, want)
	}
	with, err := runFiles(t, "testdata/bench.txt", "testdata/torch.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(with, want) {
		t.Errorf("with -torch the first table changed:\n%s", with)
	}
}

// A Go benchmark or a torch workload missing from the inputs shows as "—", not a crash; so does a
// torch file with no usable lines at all.
func TestMissing(t *testing.T) {
	out, err := runFiles(t, "testdata/bench-partial.txt", "testdata/torch-partial.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rows := vsRows(t, out)
	for _, c := range []struct{ workload, goCell, torchCell, ratio string }{
		{levF32, "31.3 s", "—", "—"},          // torch ran without leverage_qr_f32
		{levF64, "31.3 s", "3.00 s", "0.096"}, // one run only: no per-run brackets
		{train, "—", "1500 images/s", "—"},    // no Go cnn-train (GOMAXPROCS=1 names have no suffix)
		{embed, "800 images/s", "—", "—"},     // no torch cnn_embed
	} {
		r := rows[c.workload]
		if r == nil {
			t.Errorf("no row %q", c.workload)
			continue
		}
		if r[1] != c.goCell || r[2] != c.torchCell || r[3] != c.ratio {
			t.Errorf("%s: got %q | %q | %q, want %q | %q | %q", c.workload, r[1], r[2], r[3], c.goCell, c.torchCell, c.ratio)
		}
	}

	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runFiles(t, "testdata/bench.txt", empty)
	if err != nil {
		t.Fatal(err)
	}
	for w, r := range vsRows(t, out) {
		if r[2] != "—" || r[3] != "—" {
			t.Errorf("%s with an empty torch file: %q", w, r)
		}
	}
	if !strings.Contains(out, "PyTorch —, — threads, BLAS —") {
		t.Errorf("header with an empty torch file:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	if _, err := runFiles(t, "testdata/bench.txt", filepath.Join(t.TempDir(), "absent.jsonl")); err == nil {
		t.Error("no error for a missing -torch file")
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"name\": \"cnn_train\", \"seconds\": 1}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runFiles(t, "testdata/bench.txt", bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed line: err = %v, want one naming line 2", err)
	}
	var out bytes.Buffer
	if err := run(strings.NewReader("PASS\nok x 1s\n"), &out, ""); err == nil {
		t.Error("no error for input without benchmark lines")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
