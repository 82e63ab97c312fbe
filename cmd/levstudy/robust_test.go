package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// Regression tests of issue 20 (hostile and careless input) at the command line: each names the input
// of the issue it stands for.

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestOutputRefusals checks that -out never replaces an input, a folder or a special file, that its
// folder must exist and its name be a known kind, all before any work: the input's bytes and the
// special file stay as they were (issue 20, item 1 and 7c/7d).
func TestOutputRefusals(t *testing.T) {
	dir := t.TempDir()
	in := writeNPY(t, dir, "in.npy", randomMatrix(40, 5, 1), "float64")
	csvIn := filepath.Join(dir, "in.csv")
	os.WriteFile(csvIn, []byte("a,b\n1,2\n3,5\n4,4\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Link(in, filepath.Join(dir, "hard.npy"))
	os.Symlink("in.npy", filepath.Join(dir, "link.npy"))
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fifoNoExt := filepath.Join(dir, "pipe")
	syscall.Mkfifo(fifoNoExt, 0o644)
	dev := filepath.Join(dir, "null.csv") // a private /dev/null, where the test may create one (root)
	haveDev := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3) == nil
	os.Mkdir(filepath.Join(dir, "k.csv.json"), 0o755)
	before, beforeCSV := fileSum(t, in), fileSum(t, csvIn)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"the input", []string{"leverage", "-basis", "npy:" + in, "-out", in}, "flag -out: " + in + " is the input " + in + ": refusing to overwrite it"},
		{"the input by another path", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "sub", "..", ".", "in.npy")}, "is the input " + in},
		{"a hard link to the input", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "hard.npy")}, "hard.npy is the input"},
		{"a symbolic link to the input", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "link.npy")}, "link.npy is the input"},
		{"the CSV input", []string{"leverage", "-basis", "csv:" + csvIn, "-out", csvIn}, "in.csv is the input"},
		{"a named pipe", []string{"leverage", "-basis", "npy:" + in, "-out", fifo}, "fifo.csv is a named pipe, not a regular file: levstudy replaces its output files, so it refuses to write over a device, a named pipe or a socket"},
		{"a named pipe without extension", []string{"leverage", "-basis", "npy:" + in, "-out", fifoNoExt}, "pipe is a named pipe, not a regular file"},
		{"a folder", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "sub")}, "sub is a folder; give a file name such as " + filepath.Join(dir, "sub", "scores.csv")},
		{"the summary is a folder", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "k.csv")}, "k.csv.json, where the summary of " + filepath.Join(dir, "k.csv") + " goes, is a folder (remove it or choose another -out)"},
		{"a missing folder", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "no", "such", "x.csv")}, "the folder " + filepath.Join(dir, "no", "such") + " of"},
		{"unknown extension", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "scores.txt")}, "scores.txt: unknown extension .txt (want FILE.csv, FILE.npy, or - for CSV on stdout)"},
		{"no extension", []string{"leverage", "-basis", "npy:" + in, "-out", filepath.Join(dir, "scores")}, "has no extension"},
		{"blank", []string{"leverage", "-basis", "npy:" + in, "-out", " "}, `flag -out: " " is a blank file name`},
		{"embed to CSV", []string{"embed", "-basis", "cnn:C1", "-out", filepath.Join(dir, "e.csv")}, "embed writes a .npy file"},
		{"embed to stdout", []string{"embed", "-basis", "cnn:C1", "-out", "-"}, "embed writes a .npy file"},
		{"figures into a file", []string{"figures", "-out", in}, "in.npy is a file, not a folder"},
		{"q2 into a file", []string{"q2", "-out", in}, "in.npy is a file, not a folder"},
		{"q1 into a named pipe", []string{"q1", "-out", fifo}, "fifo.csv is a named pipe, not a folder"},
		{"run into a file", []string{"run", "-out", in}, "in.npy is a file, not a folder"},
		{"a device", []string{"leverage", "-basis", "npy:" + in, "-out", dev}, "null.csv is a character device, not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "device") && !haveDev {
				t.Skip("mknod needs root")
			}
			_, stderr, err := runCLI(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(stderr, "leverage pass") {
				t.Errorf("computed before refusing:\n%s", stderr)
			}
		})
	}
	if fileSum(t, in) != before || fileSum(t, csvIn) != beforeCSV {
		t.Error("an input changed")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe is now %v", st.Mode())
	}
	if haveDev {
		if st, err := os.Lstat(dev); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("the device is now %v", st.Mode())
		}
	}
	// A symbolic link to a regular file that is not an input is written through and kept.
	target := filepath.Join(dir, "target.csv")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "out.csv")
	os.Symlink("target.csv", link)
	if _, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+in, "-out", link); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
	if got := readScoresCSV(t, target); len(got) != 40 {
		t.Errorf("target holds %d scores", len(got))
	}
}

// TestInputRefusals checks that inputs that are not regular files — which used to block in open (a
// named pipe) or be read without end (/dev/zero) — and broken .pth files (gopickle spun forever on an
// empty one) are refused with the file's name (issue 20, item 2).
func TestInputRefusals(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.csv")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"npy named pipe", []string{"leverage", "-basis", "npy:" + fifo, "-out", out}, fifo + ": a named pipe, not a regular file"},
		{"csv named pipe", []string{"leverage", "-basis", "csv:" + fifo, "-out", out}, fifo + ": a named pipe, not a regular file"},
		{"csv /dev/zero", []string{"leverage", "-basis", "csv:/dev/zero", "-out", out}, "/dev/zero: a character device, not a regular file"},
		{"rankcorr /dev/zero", []string{"rankcorr", "/dev/zero", "/dev/zero"}, "/dev/zero: a character device"},
		{"rankcorr named pipe", []string{"rankcorr", fifo, fifo}, "a named pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	data := dataDir(t)
	empty := filepath.Join(dir, "empty.pth")
	os.WriteFile(empty, nil, 0o644)
	zeros := filepath.Join(dir, "zeros.pth")
	os.WriteFile(zeros, make([]byte, 1024), 0o644)
	for _, tc := range []struct{ path, want string }{
		{empty, empty + ": bad weights file: empty file"},
		{zeros, zeros + ": bad weights file: not a PyTorch .pth file"},
		{"/dev/zero", "/dev/zero: a character device, not a regular file"},
		{fifo, fifo + ": a named pipe"},
	} {
		_, _, err := runCLI(t, "leverage", "-data", data, "-cache", "", "-rows", "300", "-basis", "torch:"+tc.path, "-out", out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("torch:%s: %v, want %q", tc.path, err, tc.want)
		}
	}
}

// TestFlagValuesNotChanged checks that out-of-range flags are errors instead of silently becoming
// something else (issue 20, item 7e: -rows 999999999 became 70000, -relu-features 0 became 784; item 4:
// relu:F=20000 was accepted).
func TestFlagValuesNotChanged(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"leverage", "-rows", "999999999", "-out", "-"}, "flag -rows: 999999999, the MNIST set has 70000 rows (want 1..70000, or 0 for all)"},
		{[]string{"leverage", "-basis", "relu", "-relu-features", "0", "-out", "-"}, "flag -relu-features: 0, want 1..16384"},
		{[]string{"leverage", "-basis", "relu", "-relu-features", "20000", "-out", "-"}, "flag -relu-features: 20000, want 1..16384"},
		{[]string{"leverage", "-basis", "relu:F=20000", "-out", "-"}, `basis "relu:F=20000": F must be in 1..16384`},
		{[]string{"q2", "-shuffles", "-1", "-out", t.TempDir()}, "flag -shuffles: -1, want 2 to 100000"},
		{[]string{"q2", "-shuffles", "100001", "-out", t.TempDir()}, "flag -shuffles: 100001, want 2 to 100000"},
	} {
		_, _, err := runCLI(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	data := dataDir(t)
	out := t.TempDir()
	for _, tc := range []struct{ k, want string }{
		{"2001", "flag -k: 2001, want 1..1999 (the 2000 rows ranked)"},
		{"50,5000", "flag -k: 5000, want 1..1999"},
	} {
		_, stderr, err := runCLI(t, "q2", "-data", data, "-cache", "", "-rows", "2000", "-bases", "raw,relu", "-k", tc.k, "-shuffles", "10", "-out", out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("q2 -k %s: %v, want %q", tc.k, err, tc.want)
		}
		if strings.Contains(stderr, "leverage pass") {
			t.Errorf("q2 -k %s computed before refusing", tc.k)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("q2 wrote %v", ents)
	}
}

// TestRankCorrInputs checks rankcorr on the files leverage writes for file bases (index,leverage), on
// constant scores (a NaN correlation printed with exit 0, or "json: unsupported value: NaN", before)
// and a k beyond the rows (issue 20, item 7a and 7b).
func TestRankCorrInputs(t *testing.T) {
	dir := t.TempDir()
	x := randomMatrix(100, 5, 2)
	in := writeNPY(t, dir, "x.npy", x, "float64")
	for i := range x.Data {
		x.Data[i] *= 1 + 0.3*math.Sin(float64(i))
	}
	in2 := writeNPY(t, dir, "x2.npy", x, "float64")
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	for _, p := range [][2]string{{in, a}, {in2, b}} {
		if _, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+p[0], "-out", p[1]); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
	}
	stdout, _, err := runCLI(t, "rankcorr", "-json", "-k", "10,50", a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got rankCorrJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.N != 100 || !(got.KendallTauB > 0 && got.KendallTauB < 1) || len(got.Overlap) != 2 {
		t.Errorf("rankcorr of two index,leverage files: %+v", got)
	}
	// Without -k the default grid is kept up to the 100 rows (it goes to 20000).
	if stdout, _, err := runCLI(t, "rankcorr", a, a); err != nil || !strings.Contains(stdout, "Kendall tau-b  1.0000") ||
		!strings.Contains(stdout, "\n     100      100    1.0000") || strings.Contains(stdout, "\n     200 ") {
		t.Errorf("a file with itself: %v\n%s", err, stdout)
	}
	constant := filepath.Join(dir, "const.csv")
	var body strings.Builder
	body.WriteString("index,leverage\n")
	for i := 0; i < 100; i++ {
		body.WriteString(strconv.Itoa(i) + ",0.05\n")
	}
	os.WriteFile(constant, []byte(body.String()), 0o644)
	for _, args := range [][]string{{"rankcorr", "-k", "10", constant, a}, {"rankcorr", "-json", "-k", "10", a, constant}} {
		stdout, _, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), "const.csv: all 100 scores are equal (0.05): rank correlations of a constant ranking are undefined") || stdout != "" {
			t.Errorf("%v: %v, stdout %q", args, err, stdout)
		}
	}
	if _, _, err := runCLI(t, "rankcorr", "-k", "50,5000", a, b); err == nil || !strings.Contains(err.Error(), "flag -k: 5000 is larger than the 100 rows of "+a) {
		t.Errorf("k beyond the rows: %v", err)
	}
}

// TestLeverageExtremeScaleFile checks the "zeros with one 1e300" at the command line: the
// scores are right (rank 1, ℓ₁₇ = 1, as numpy's SVD of the column-equilibrated X), the summary is
// finite JSON beside them, and nothing says "all zeros" (issue 20, item 3 and 7i).
func TestLeverageExtremeScaleFile(t *testing.T) {
	dir := t.TempDir()
	x := matrixio.NewMatrix(400, 12)
	x.Data[17*12+3] = 1e300
	in := writeNPY(t, dir, "z.npy", x, "float64")
	out := filepath.Join(dir, "z.npy.csv")
	_, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+in, "-out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	scores := readScoresCSV(t, out)
	for i, s := range scores {
		if want := map[bool]float64{true: 1, false: 0}[i == 17]; s != want {
			t.Fatalf("ℓ[%d] = %v, want %v", i, s, want)
		}
	}
	sum, err := leverage.ReadSummary(out + ".json")
	if err != nil || sum.Rank != 1 || sum.Sum != 1 || math.IsNaN(sum.SigmaMax) {
		t.Errorf("summary %+v, %v", sum, err)
	}
	if strings.Contains(stderr, "all zeros") {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestNoHeaderCSV checks that a CSV without a header row (np.savetxt without header=) is refused with
// a hint instead of losing its first row (issue 20, item 7f).
func TestNoHeaderCSV(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nh.csv")
	os.WriteFile(p, []byte("1.5,2,3\n4,5,6\n7,8,9.5\n1,1,2\n"), 0o644)
	_, _, err := runCLI(t, "leverage", "-basis", "csv:"+p, "-out", filepath.Join(dir, "o.csv"))
	if err == nil || !strings.Contains(err.Error(), "nh.csv: line 1 holds 3 numbers, not column names: the first line must be a header row") {
		t.Errorf("error %v", err)
	}
}

// syncWriter serializes writes to a buffer shared by stdout and stderr, as a file given to both is.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestOutputLinesWhole runs leverage with stdout and stderr going to one writer (as `> f 2>&1`) and
// checks that every line is whole — a progress line, a summary line or a CSV row — and that the
// progress and summary lines all come before the first CSV row (issue 20, item 7j).
func TestOutputLinesWhole(t *testing.T) {
	data := dataDir(t)
	t.Setenv("GOMLX_BACKEND", "go")
	var w syncWriter
	err := run(context.Background(), &w, &w, []string{"leverage", "-data", data, "-cache", "", "-rows", "1500", "-basis", "relu:F=300", "-out", "-"})
	if err != nil {
		t.Fatal(err)
	}
	stderrLine := regexp.MustCompile(`^(levstudy: .*|ReLU features: .*|leverage pass \d: .*|basis relu:F=300,seed=1, 1500 rows × 300 columns, .*|  rank cut-off: .*)$`)
	csvLine := regexp.MustCompile(`^\d+,(train|test),\d,[0-9.e-]+$`)
	seenCSV, rows := false, 0
	for _, l := range strings.Split(strings.TrimSuffix(w.b.String(), "\n"), "\n") {
		switch {
		case l == "index,split,label,leverage":
			seenCSV = true
		case csvLine.MatchString(l) && seenCSV:
			rows++
		case stderrLine.MatchString(l) && !seenCSV:
		default:
			t.Fatalf("line %q is mixed or out of order", l)
		}
	}
	if rows != 1500 {
		t.Errorf("%d CSV rows", rows)
	}
}

// TestStaleTemporariesSwept checks that the temporary files a killed run left in an output folder
// (kill -9 during an atomic write) are removed by the next run that writes there: one named with a
// pid that no longer runs, and one of the older naming (no pid) older than a day (issue 20, item 7h).
func TestStaleTemporariesSwept(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	dead := filepath.Join(dir, ".raw_exact_top50.png.tmp-"+strconv.Itoa(cmd.Process.Pid)+"-123")
	old := filepath.Join(dir, ".raw_exact_scores.svg.tmp3502666893")
	for _, p := range []string{dead, old} {
		os.WriteFile(p, []byte("partial"), 0o644)
	}
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(old, past, past)
	if _, stderr, err := runCLI(t, "figures", "-data", data, "-cache", "", "-rows", "1000", "-k", "10", "-out", dir); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, p := range []string{dead, old} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after the next run", filepath.Base(p))
		}
	}
}
