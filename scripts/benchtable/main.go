// Command benchtable reads `go test -bench` output on stdin and prints a Markdown table: one row per
// benchmark, one column per metric (time per op in seconds, then custom metrics such as GFLOP/s or
// images/s, then memory).
//
// With -torch FILE (the JSON lines of scripts/bench/torch_bench.py, possibly several runs appended) it
// then prints a second table, levstudy vs PyTorch CPU (same run), pairing the BenchmarkVsTorch
// benchmarks with the PyTorch workloads. The PyTorch figure is the median over every timed repeat of
// every run in FILE; the ratio is PyTorch time / levstudy time, or levstudy images/s / PyTorch images/s,
// so a ratio above 1 means levstudy is faster. A side missing from either input shows as "—".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// benchRow is one `go test -bench` result line: the name without "Benchmark" and the -GOMAXPROCS
// suffix, and its metrics by unit as printed in the first table (ns/op becomes s/op, B/op MiB/op).
type benchRow struct {
	name    string
	metrics map[string]string
}

// parseBench reads `go test -bench` output; units lists the metric units in order of first appearance,
// cpu the processor `go test` names (its "cpu:" line).
func parseBench(r io.Reader) (rows []benchRow, units []string, cpu string, err error) {
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if c, ok := strings.CutPrefix(sc.Text(), "cpu: "); ok && cpu == "" {
			cpu = strings.TrimSpace(c)
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		r := benchRow{name: strings.TrimPrefix(name, "Benchmark"), metrics: map[string]string{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, unit := f[i], f[i+1]
			if unit == "ns/op" {
				if ns, err := strconv.ParseFloat(v, 64); err == nil {
					v, unit = fmt.Sprintf("%.3f", ns/1e9), "s/op"
				}
			}
			if unit == "B/op" {
				if by, err := strconv.ParseFloat(v, 64); err == nil {
					v, unit = fmt.Sprintf("%.1f", by/(1<<20)), "MiB/op"
				}
			}
			r.metrics[unit] = v
			if !seen[unit] {
				seen[unit] = true
				units = append(units, unit)
			}
		}
		rows = append(rows, r)
	}
	return rows, units, cpu, sc.Err()
}

// writeBenchTable prints the first table, one row per benchmark line.
func writeBenchTable(w io.Writer, rows []benchRow, units []string) {
	fmt.Fprintf(w, "| benchmark | %s |\n|---|%s\n", strings.Join(units, " | "), strings.Repeat("---:|", len(units)))
	for _, r := range rows {
		var cells []string
		for _, u := range units {
			cells = append(cells, r.metrics[u])
		}
		fmt.Fprintf(w, "| %s | %s |\n", r.name, strings.Join(cells, " | "))
	}
}

// goMetric is the median of a benchmark's metric (unit as in benchRow.metrics) over every line with that
// name (several with -count), and whether there was any.
func goMetric(rows []benchRow, name, unit string) (float64, bool) {
	var vs []float64
	for _, r := range rows {
		if r.name != name {
			continue
		}
		if v, err := strconv.ParseFloat(r.metrics[unit], 64); err == nil {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	return median(vs), true
}

// torchRecord is one line of torch_bench.py's output (the fields benchtable uses).
type torchRecord struct {
	Name       string    `json:"name"`
	Seconds    float64   `json:"seconds"`
	AllSeconds []float64 `json:"all_seconds"`
	ImagesPerS *float64  `json:"images_per_s"`
	FitsPerMin *float64  `json:"fits_per_min"`
	Images     *float64  `json:"images"`
	Threads    int       `json:"threads"`
	Torch      string    `json:"torch"`
	BLAS       string    `json:"blas"`
	Detail     string    `json:"detail"`
}

// torchResult pools every run of one workload.
type torchResult struct {
	seconds    float64   // median over all timed repeats of all runs
	runMedians []float64 // each run's median, in file order (drift between runs)
	images     float64   // images per timed repeat; 0 if not given
	imagesPerS float64   // images / seconds, or the median of the runs' images_per_s; 0 if not a throughput
	fitsPerMin []float64 // each run's fits_per_min (torch_q1.py)
	detail     string    // the last run's detail
}

// torchInfo is what the runs say about the PyTorch build.
type torchInfo struct {
	versions, threads, blas []string
	runs                    int
}

// parseTorch reads torch_bench.py JSON lines (blank lines and lines starting with '#' are skipped).
func parseTorch(r io.Reader) (map[string]*torchResult, torchInfo, error) {
	type acc struct {
		all, runMedians, ips, fpm []float64
		images                    float64
		detail                    string
	}
	accs := map[string]*acc{}
	var info torchInfo
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		var rec torchRecord
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			return nil, info, fmt.Errorf("line %d: %v", line, err)
		}
		if rec.Name == "" {
			return nil, info, fmt.Errorf("line %d: no \"name\"", line)
		}
		a := accs[rec.Name]
		if a == nil {
			a = &acc{}
			accs[rec.Name] = a
		}
		secs := rec.AllSeconds
		if len(secs) == 0 && rec.Seconds > 0 {
			secs = []float64{rec.Seconds}
		}
		if len(secs) > 0 {
			a.all = append(a.all, secs...)
			a.runMedians = append(a.runMedians, median(secs))
		}
		if rec.Images != nil {
			a.images = *rec.Images
		}
		if rec.ImagesPerS != nil {
			a.ips = append(a.ips, *rec.ImagesPerS)
		}
		if rec.FitsPerMin != nil {
			a.fpm = append(a.fpm, *rec.FitsPerMin)
		}
		a.detail = rec.Detail
		add(&info.versions, rec.Torch)
		if rec.Threads > 0 {
			add(&info.threads, strconv.Itoa(rec.Threads))
		}
		add(&info.blas, rec.BLAS)
		counts[rec.Name]++
		info.runs = max(info.runs, counts[rec.Name])
	}
	if err := sc.Err(); err != nil {
		return nil, info, err
	}
	out := map[string]*torchResult{}
	for name, a := range accs {
		t := &torchResult{runMedians: a.runMedians, images: a.images, fitsPerMin: a.fpm, detail: a.detail}
		if len(a.all) > 0 {
			t.seconds = median(a.all)
		}
		switch {
		case a.images > 0 && t.seconds > 0:
			t.imagesPerS = a.images / t.seconds
		case len(a.ips) > 0:
			t.imagesPerS = median(a.ips)
		}
		out[name] = t
	}
	return out, info, nil
}

// pairing is one row of the comparison table.
type pairing struct {
	workload string
	goName   string // benchmark name as in benchRow.name; "" for a PyTorch-only row
	torch    string // torch_bench.py or torch_q1.py workload name
	unit     string // "s" (time, lower is better), or a throughput: "images/s", "fits/min"
	note     string
}

var pairings = []pairing{
	{"leverage MNIST RAW (levstudy exact f64 vs torch QR f32)", "VsTorch/leverage-raw-exact-f64", "leverage_qr_f32", "s", "target ≥ 1.0"},
	{"leverage MNIST RAW (levstudy exact f64 vs torch QR f64)", "VsTorch/leverage-raw-exact-f64", "leverage_qr_f64", "s", "information"},
	{"CNN train, 1 epoch", "VsTorch/cnn-train", "cnn_train", "images/s", "target ≥ 1.0"},
	{"CNN embed (200-d)", "VsTorch/cnn-embed", "cnn_embed", "images/s", "target ≥ 1.0"},
	{"Q1 linear fits (k = 1000, 300 steps; levstudy q1.Fit in batches, PyTorch one at a time)", "Q1Fits/classifier=linear", "q1_linear_fits", "fits/min", "target ≥ 1.0"},
	{"Q1 cnn fits (k = 1000, 200 steps; levstudy q1.Fit in batches, PyTorch one at a time)", "Q1Fits/classifier=cnn", "q1_cnn_fits", "fits/min", "target ≥ 1.0"},
}

const dash = "—"

// writeVsTable prints the levstudy vs PyTorch table.
func writeVsTable(w io.Writer, rows []benchRow, torch map[string]*torchResult, info torchInfo) {
	fmt.Fprintf(w, "\n### levstudy vs PyTorch CPU (same run)\n\n")
	fmt.Fprintf(w, "PyTorch %s, %s threads, BLAS %s; PyTorch figures are medians over all timed repeats of %d run(s) (per-run medians in brackets). Ratio > 1: levstudy is faster.\n\n",
		orDash(strings.Join(info.versions, "/")), orDash(strings.Join(info.threads, "/")),
		orDash(strings.Join(info.blas, "/")), info.runs)
	fmt.Fprintln(w, "| workload | levstudy | PyTorch | ratio | note |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|")
	for _, p := range pairings {
		goCell, torchCell, ratioCell := dash, dash, dash
		var goV, tV float64
		var goOK, tOK bool
		var runs []float64 // PyTorch per run, for the brackets
		if p.goName != "" {
			unit := p.unit
			if unit == "s" {
				unit = "s/op"
			}
			goV, goOK = goMetric(rows, p.goName, unit)
		}
		if t := torch[p.torch]; t != nil {
			switch p.unit {
			case "s":
				tV, tOK, runs = t.seconds, t.seconds > 0, t.runMedians
			case "images/s":
				tV, tOK = t.imagesPerS, t.imagesPerS > 0
				if t.images > 0 {
					for _, s := range t.runMedians {
						runs = append(runs, t.images/s)
					}
				}
			case "fits/min":
				if len(t.fitsPerMin) > 0 {
					tV, tOK, runs = median(t.fitsPerMin), true, t.fitsPerMin
				}
			}
		}
		if goOK {
			goCell = formatValue(goV, p.unit)
		}
		if tOK {
			torchCell = formatValue(tV, p.unit)
			if len(runs) > 1 {
				var rs []string
				for _, r := range runs {
					rs = append(rs, formatNumber(r))
				}
				torchCell += " [" + strings.Join(rs, ", ") + "]"
			}
		}
		if goOK && tOK && goV > 0 {
			if p.unit == "s" {
				ratioCell = formatRatio(tV / goV)
			} else {
				ratioCell = formatRatio(goV / tV)
			}
		}
		note := p.note
		if t := torch[p.torch]; t != nil && t.detail != "" {
			note += "; torch: " + t.detail
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", p.workload, goCell, torchCell, ratioCell, note)
	}
}

func formatValue(v float64, unit string) string {
	return formatNumber(v) + " " + unit
}

func formatNumber(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func formatRatio(r float64) string {
	if r >= 0.1 {
		return fmt.Sprintf("%.2f", r)
	}
	return fmt.Sprintf("%.3f", r)
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func run(stdin io.Reader, stdout io.Writer, torchFile string) error {
	rows, units, cpu, err := parseBench(stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %v", err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("no benchmark lines on stdin")
	}
	var torch map[string]*torchResult
	var info torchInfo
	if torchFile != "" {
		f, err := os.Open(torchFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if torch, info, err = parseTorch(f); err != nil {
			return fmt.Errorf("%s: %v", torchFile, err)
		}
	}
	if cpu != "" {
		fmt.Fprintf(stdout, "CPU: %s\n\n", cpu)
	}
	writeBenchTable(stdout, rows, units)
	if torchFile != "" {
		writeVsTable(stdout, rows, torch, info)
	}
	return nil
}

func main() {
	torchFile := flag.String("torch", "", "JSON lines of scripts/bench/torch_bench.py: adds a levstudy vs PyTorch CPU table")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchtable [-torch FILE] < go-test-bench-output\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, *torchFile); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}
