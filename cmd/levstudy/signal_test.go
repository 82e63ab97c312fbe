package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildTestBinary builds levstudy with the levstudytest tag (its hidden debug-spin command).
func buildTestBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "levstudy-test")
	out, err := exec.Command("go", "build", "-tags", "levstudytest", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startSpinning starts the binary's debug-spin command and waits for its "spinning" line.
func startSpinning(t *testing.T, bin string, args ...string) (*exec.Cmd, *strings.Builder, chan error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"debug-spin"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	r := bufio.NewReader(stderr)
	line, err := r.ReadString('\n')
	log.WriteString(line)
	if err != nil || line != "spinning\n" {
		cmd.Process.Kill()
		t.Fatalf("debug-spin printed %q (%v)", line, err)
	}
	done := make(chan error, 1)
	go func() {
		b, _ := io.ReadAll(r)
		log.Write(b)
		done <- cmd.Wait()
	}()
	return cmd, &log, done
}

// waitExit waits up to limit for the process to end with status 130; a process still running then is
// killed and the test fails (it would otherwise hang the suite).
func waitExit(t *testing.T, cmd *exec.Cmd, done chan error, limit time.Duration, log *strings.Builder) {
	t.Helper()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 130 {
			t.Errorf("exit: %v, want status 130\n%s", err, log.String())
		}
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Errorf("still running %s after the signal: only SIGKILL stopped it\n%s", limit, log.String())
	}
}

// TestSignalEndsStuckCommand checks that a command stuck in code that never looks at its context (the
// test build's debug-spin) still ends with status 130: after the grace period following one SIGINT or
// SIGTERM, and at once on a second signal (the grace period is then set far longer than the wait).
// An atomic write in progress leaves neither its temporary file nor its output behind.
func TestSignalEndsStuckCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped under -short")
	}
	bin := buildTestBinary(t)
	for _, tc := range []struct {
		name  string
		sigs  []syscall.Signal
		grace string
		want  string
	}{
		{"one SIGINT, grace period", []syscall.Signal{syscall.SIGINT}, "1s", "still busy 1s after the interrupt"},
		{"one SIGTERM, grace period", []syscall.Signal{syscall.SIGTERM}, "1s", "still busy 1s after the interrupt"},
		{"two SIGINTs", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, "10m", "levstudy: quitting"},
		{"SIGTERM then SIGINT", []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}, "10m", "levstudy: quitting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.csv")
			cmd, log, done := startSpinning(t, bin, "-grace", tc.grace, "-write", out)
			for i, s := range tc.sigs {
				if i > 0 {
					time.Sleep(200 * time.Millisecond) // the first signal is handled
				}
				cmd.Process.Signal(s)
			}
			waitExit(t, cmd, done, 30*time.Second, log)
			if !strings.Contains(log.String(), "stopping (again to quit at once)") || !strings.Contains(log.String(), tc.want) {
				t.Errorf("stderr does not say what happened (want %q):\n%s", tc.want, log.String())
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left in the output folder: %v", ents)
			}
		})
	}
}
