// Command levstudy computes leverage scores of MNIST feature bases and the study's figures.
//
// Usage:
//
//	levstudy leverage -basis raw|relu[:F=N,seed=N]|cnn:A1|torch:F.pth [-method exact|qr] [-ridge λ] -out FILE.csv|FILE.npy|- [flags]
//	levstudy leverage -basis npy:X.npy|csv:X.csv [-method exact|qr] [-ridge λ] -out FILE.csv|FILE.npy|-
//	levstudy figures  -basis raw|relu[:…] [-method exact|qr] [-k 300] -out DIR [flags]
//	levstudy install-data -from DIR [-to DIR]
//
// Common flags:
//
//	-data DIR      folder with the four MNIST .gz files (default $LEVSTUDY_DATA or ~/.local/share/levstudy/mnist)
//	-rows N        use only the first N rows of the combined set (train 0–59999, then test)
//	-backend CFG   GoMLX backend: go, go:ops_sequential, xla:cpu, xla:cuda (default $GOMLX_BACKEND, else XLA
//	               if a PJRT plugin is installed, else go)
//	-cache DIR     cache of computed leverage (default $LEVSTUDY_CACHE or ~/.cache/levstudy); -cache "" disables
//	-relu-features N, -relu-seed N   F and the seed of the relu basis (default 784 and 1)
//
// leverage writes a CSV with header index,split,label,leverage, one row per image; for a file basis
// (any N×D matrix in a float32/float64 .npy file or a CSV file with a header row, read from disk in row
// chunks) index,leverage; with -out FILE.npy the float64 scores, shape (N,). -ridge λ gives ridge
// leverage ℓᵢ(λ) = xᵢᵀ(XᵀX + λI)⁻¹xᵢ. Beside every output file FILE.json records the source, rank,
// rank cut-off, rows with ℓ > 0.99, Σℓ, time and versions; stderr shows the same. figures writes
// top-K and bottom-K digit grids and the sorted-score curve, as PNG and SVG.
//
// Example:
//
//	levstudy leverage -basis raw -out raw.csv
//	levstudy leverage -basis npy:features.npy -out features_lev.npy
//	levstudy figures -basis relu -out figs/
//
// Interrupt (Ctrl-C) stops between chunks; the output files are written atomically.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	if err != nil {
		switch {
		case errors.Is(err, context.Canceled):
			fmt.Fprintln(os.Stderr, "levstudy: interrupted; finished work is cached (training is checkpointed): run the same command to resume")
		case err != errUsage:
			fmt.Fprintln(os.Stderr, "levstudy:", err)
		}
		os.Exit(exitCode(err))
	}
}
