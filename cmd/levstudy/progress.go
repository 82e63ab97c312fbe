package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/levstudy/levstudy/levlib/progress"
)

// progressBar draws a bar with an ETA on stderr: redrawn in place on a terminal, a line per quarter
// otherwise (logs, CI). It is safe for concurrent use (progress comes from several goroutines), and
// every other line written to stderr while it is in use goes through printf, so that a bar is cleared
// before the line and no two lines are ever mixed, even when stdout and stderr are the same file.
type progressBar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	stage    string
	timer    progress.Timer
	lastLine int
	drawn    bool
}

func newProgress(w io.Writer) *progressBar {
	p := &progressBar{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// update shows p; a zero Progress clears the bar.
func (p *progressBar) update(u progress.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Total <= 0 {
		p.clearLocked()
		return
	}
	if u.Stage != p.stage || u.Done <= 1 {
		if u.Stage != p.stage {
			p.clearLocked()
		}
		p.stage, p.lastLine = u.Stage, -1
	}
	frac := float64(u.Done) / float64(u.Total)
	elapsed, left, ok := p.timer.Observe(u, time.Now())
	eta := "?"
	if ok {
		eta = left.Round(time.Second).String()
	}
	if p.tty {
		const width = 30
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r%-14s [%s%s] %3.0f%% %d/%d ETA %s ", u.Stage, strings.Repeat("=", n),
			strings.Repeat(" ", width-n), 100*frac, u.Done, u.Total, eta)
		p.drawn = true
		return
	}
	if q := int(4 * frac); q > p.lastLine {
		p.lastLine = q
		fmt.Fprintf(p.w, "%s: %d/%d (%.0f%%), %s elapsed, ETA %s\n", u.Stage, u.Done, u.Total, 100*frac,
			elapsed.Round(time.Second), eta)
	}
}

// clear removes the bar (on a terminal).
func (p *progressBar) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

// printf clears the bar and writes a line (or lines) of text to the bar's writer.
func (p *progressBar) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintf(p.w, format, args...)
}

func (p *progressBar) clearLocked() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	p.drawn = false
	p.stage = ""
}
