// Command levstudy runs the leverage-score sample selection study on MNIST and its parts: leverage
// scores of any basis or matrix, figures, CNN training and embeddings, Question 1 and Question 2.
//
// Usage:
//
//	levstudy run      [-preset quick|full|original|tiny] [-out out/study] [-weights DIR] [-select-on pool|train]
//	levstudy leverage -basis raw|relu[:F=N,seed=N]|cnn:A1|torch:F.pth [-method exact|qr] [-ridge λ] -out FILE.csv|FILE.npy|- [flags]
//	levstudy leverage -basis npy:X.npy|csv:X.csv [-method exact|qr] [-ridge λ] -out FILE.csv|FILE.npy|-
//	levstudy figures  -basis B [-method exact|qr] [-k 300] -out DIR [flags]
//	levstudy train-cnn -group A|B|C -seed N [-epochs 5] [-train-rows N]
//	levstudy embed    -basis cnn:C3|torch:F.pth -out FILE.npy
//	levstudy q1       -bases raw,relu,cnn:A1 [-classifier cnn|linear|ridge|probe] [-k 1000,…] [-seeds 5] [-select-on pool|train] [-steps 500] -out DIR
//	levstudy q2       -bases raw,relu,cnn:A1,… [-k 1000,10000] -out DIR
//	levstudy rankcorr [-json] A.csv B.csv
//	levstudy install-data -from DIR [-to DIR]
//
// Common flags:
//
//	-data DIR      folder with the four MNIST .gz files (default $LEVSTUDY_DATA or ~/.local/share/levstudy/mnist)
//	-rows N        use only the first N rows of the combined set (train 0–59999, then test)
//	-backend CFG   GoMLX backend: go, go:ops_sequential, xla:cpu, xla:cuda (default $GOMLX_BACKEND, else XLA
//	               if a PJRT plugin is installed, else go)
//	-cache DIR     cache of computed results (default $LEVSTUDY_CACHE or ~/.cache/levstudy); -cache "" disables
//	-relu-features N, -relu-seed N   F and the seed of the relu basis (default 784 and 1)
//	-epochs N, -train-rows N         the recipe of cnn bases (default 5 epochs on all training rows)
//
// A flag a command does not use is an error, not ignored. run writes report.html (findings, tables,
// figures), results.json, q1/ and q2/ to -out. leverage writes a CSV with header
// index,split,label,leverage, one row per image; for a file basis (any N×D matrix in a float32/float64
// .npy file or a CSV file with a header row, read from disk in row chunks) index,leverage; with -out
// FILE.npy the float64 scores, shape (N,). -ridge λ gives ridge leverage ℓᵢ(λ) = xᵢᵀ(XᵀX + λI)⁻¹xᵢ.
// Beside every output file FILE.json records the source, rank, rank cut-off, rows with ℓ > 0.99, Σℓ,
// time and versions; stderr shows the same. figures writes top-K and bottom-K digit grids and the
// sorted-score curve, as PNG and SVG.
//
// Example:
//
//	levstudy run -preset quick
//	levstudy leverage -basis raw -out raw.csv
//	levstudy leverage -basis npy:features.npy -out features_lev.npy
//	levstudy q1 -bases raw,cnn:A1 -classifier cnn -k 1000 -out q1/
//
// Interrupt (Ctrl-C) or SIGTERM stops between chunks or training steps with exit status 130; output
// files are written atomically, and cached work (and a training checkpoint) lets the same command
// resume. What does not stop within 5 seconds (a computation that cannot look at the interrupt, such as
// a host factorization or a third-party parser), or a second Ctrl-C, ends the program at once, still
// with status 130: an atomic write in progress is then either complete or removed.
//
// Bad input (files, flags, outputs) gives an error that names the file, row or flag, with exit status 1
// (2 for a usage error); see the README's "Bad input" section for what is checked.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"
)

// graceStop is how long a command may take to stop after the first interrupt before the program
// ends without it: long enough for a chunk, a training step or a checkpoint write.
var graceStop = 5 * time.Second

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	stopSignals := handleSignals(cancel, os.Stderr, func() { fileio.AbortWrites(); os.Exit(130) })
	err := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stopSignals()
	if err != nil {
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(os.Stderr, "levstudy: interrupted; what finished is in the cache (with -cache) and training keeps a checkpoint: run the same command to resume")
		case err != errUsage:
			fmt.Fprintln(os.Stderr, "levstudy:", err)
		}
		os.Exit(exitCode(err))
	}
}

// handleSignals makes SIGINT and SIGTERM cancel the context; a second signal, or graceStop after the
// first, calls quit (which exits). The returned function stops the handling.
func handleSignals(cancel context.CancelFunc, stderr io.Writer, quit func()) (stop func()) {
	sigs := make(chan os.Signal, 2)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		var s os.Signal
		select {
		case s = <-sigs:
		case <-done:
			return
		}
		cancel()
		fmt.Fprintf(stderr, "\nlevstudy: %v: stopping (again to quit at once)\n", s)
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "levstudy: quitting")
		case <-time.After(graceStop):
			fmt.Fprintf(stderr, "levstudy: still busy %s after the interrupt (inside a computation that cannot be interrupted); quitting\n", graceStop)
		case <-done:
			return
		}
		quit()
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
