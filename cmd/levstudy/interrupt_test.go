package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds levstudy into a temporary folder (with the caller's GOEXPERIMENT).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "levstudy")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var (
	progressLine = regexp.MustCompile(`^train A5: (\d+)/(\d+) \((\d+)%\), (\S+) elapsed, ETA (\S+)$`)
	cnnName      = regexp.MustCompile(`mnist-cnn-A5-[0-9a-f]{64}`)
)

// TestInterruptAndResume runs the real binary as a user would: `levstudy train-cnn` interrupted with
// Ctrl-C (SIGINT) halfway through the epoch exits with status 130 and says how to resume; the same
// command then resumes from the checkpoint, its progress lines show a sane elapsed time and ETA (a
// resumed stage once read "2562047h47m16.854775807s elapsed"), and it ends with exactly the network of
// an uninterrupted run (same weights sha256 in the name).
func TestInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains a CNN; skipped under -short")
	}
	data, dir := dataDir(t), t.TempDir()
	bin := buildBinary(t)
	args := func(cache string) []string {
		return []string{"train-cnn", "-group", "A", "-seed", "5", "-epochs", "1", "-train-rows", "4000", "-data", data, "-cache", cache, "-backend", "go"}
	}
	ref, err := exec.Command(bin, args(filepath.Join(dir, "ref"))...).Output()
	if err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}
	want := cnnName.FindString(string(ref))
	if want == "" {
		t.Fatalf("uninterrupted run printed no network name:\n%s", ref)
	}

	cache := filepath.Join(dir, "cache")
	cmd := exec.Command(bin, args(cache)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		log.WriteString(line + "\n")
		if m := progressLine.FindStringSubmatch(line); m != nil && m[3] >= "50" && len(m[3]) == 2 {
			cmd.Process.Signal(syscall.SIGINT)
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, want exit status 130\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "interrupted") || !strings.Contains(log.String(), "run the same command to resume") {
		t.Errorf("interrupted run does not say how to resume:\n%s", log.String())
	}
	ckpts, _ := filepath.Glob(filepath.Join(cache, "cnn", "partial", "*.ckpt"))
	if len(ckpts) != 1 {
		t.Fatalf("checkpoints after the interrupt: %v", ckpts)
	}

	start := time.Now()
	resumed := exec.Command(bin, args(cache)...)
	var out, errOut bytes.Buffer
	resumed.Stdout, resumed.Stderr = &out, &errOut
	if err := resumed.Run(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, errOut.String())
	}
	took := time.Since(start)
	if !strings.Contains(errOut.String(), "resuming from checkpoint") {
		t.Errorf("resumed run does not say it resumes:\n%s", errOut.String())
	}
	first := -1
	for _, line := range strings.Split(errOut.String(), "\n") {
		m := progressLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if first < 0 {
			first = atoi(t, m[1])
		}
		if el, err := time.ParseDuration(m[4]); err != nil || el > took {
			t.Errorf("progress line %q: elapsed %s is longer than the run (%s)", line, m[4], took)
		}
		if m[5] != "?" {
			if eta, err := time.ParseDuration(m[5]); err != nil || eta > took {
				t.Errorf("progress line %q: ETA %s is longer than the whole run (%s)", line, m[5], took)
			}
		}
	}
	if first < 30 {
		t.Errorf("resumed run's first progress line is at step %d: it did not resume past the interrupt\n%s", first, errOut.String())
	}
	if got := cnnName.FindString(out.String()); got != want {
		t.Errorf("resumed run ends with %s, the uninterrupted run with %s", got, want)
	}
	if _, err := os.Stat(ckpts[0]); err == nil {
		t.Errorf("checkpoint %s left behind after the network was cached", ckpts[0])
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = 10*n + int(c-'0')
	}
	return n
}
