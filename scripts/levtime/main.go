// Command levtime times the exact leverage of MNIST RAW (70,000×784) pass by pass: when each pass of the
// engine reports its first and its last chunk, and the total, over a few repeats. It is how the README's
// per-pass figures were measured (go run ./scripts/levtime [-repeats 4] [-chunk-rows N] [-cpuprofile F]).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "levtime:", err)
		os.Exit(1)
	}
}

func run() error {
	repeats := flag.Int("repeats", 4, "timed repeats")
	chunk := flag.Int("chunk-rows", 0, "rows per chunk (0: the engine's default)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the repeats to this file")
	flag.Parse()
	sel, err := backend.New("")
	if err != nil {
		return err
	}
	fmt.Println(sel.Note)
	ds, err := mnist.Load(mnist.DefaultDataDir(), 0)
	if err != nil {
		return err
	}
	x := basis.Raw(ds)
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for rep := 1; rep <= *repeats; rep++ {
		start := time.Now()
		type span struct {
			stage       string
			first, last float64
		}
		var spans []span // when each pass reported its first and its last chunk
		opts := leverage.Options{ChunkRows: *chunk, Progress: func(p progress.Report) {
			t := time.Since(start).Seconds()
			if len(spans) == 0 || spans[len(spans)-1].stage != p.Stage {
				spans = append(spans, span{stage: p.Stage, first: t})
			}
			spans[len(spans)-1].last = t
		}}
		res, err := leverage.Scores(context.Background(), sel.Backend, x, opts)
		if err != nil {
			return err
		}
		fmt.Printf("repeat %d: rank %d, total %.2fs\n", rep, res.Rank, time.Since(start).Seconds())
		for _, s := range spans {
			fmt.Printf("  %s: first chunk done at %.2fs, last at %.2fs\n", s.stage, s.first, s.last)
		}
	}
	return nil
}
