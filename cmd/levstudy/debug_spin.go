//go:build levstudytest

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/levstudy/levstudy/internal/fileio"
)

// The test build (go build -tags levstudytest) adds a hidden command that never looks at its context,
// as code inside a dependency or a long host factorization does, so that tests can check that a
// signal still ends the program.

func init() { hiddenCommands["debug-spin"] = cmdDebugSpin }

// cmdDebugSpin: levstudy debug-spin [-grace D] [-write FILE]. It sets the grace period, starts an atomic
// write of FILE whose writer never finishes (if given), prints "spinning" on stderr and spins.
func cmdDebugSpin(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("debug-spin", stderr, "[-grace 5s] [-write FILE]")
	grace := fs.Duration("grace", graceStop, "grace period after the first signal")
	write := fs.String("write", "", "start an atomic write of this file that never finishes")
	if err := parse(fs, args); err != nil {
		return err
	}
	graceStop = *grace
	if *write != "" {
		started := make(chan bool)
		go fileio.WriteAtomic(*write, func(w io.Writer) error {
			io.WriteString(w, "partial")
			close(started)
			select {}
		})
		<-started
	}
	fmt.Fprintln(stderr, "spinning")
	x := 0
	for {
		x++ // no call, no ctx: only the signal handler can end this
	}
}
