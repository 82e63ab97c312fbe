package progress

import (
	"time"
)

// Report reports how far a long computation is: Done of Total units of the named Stage.
type Report struct {
	Stage       string
	Done, Total int
}

// Timer turns Report reports into the time elapsed in a stage and an ETA. The rate is
// measured from the first report of a stage this timer saw, so a stage resumed at 52% (a training run
// continuing from a checkpoint) does not count its first half as done in no time. The zero value is
// ready to use.
type Timer struct {
	stage     string
	start     time.Time
	startDone int
}

// Observe records p at time now and returns the time since the stage's first report and the estimated
// time left, or ok = false while the rate is unknown (a single report).
func (t *Timer) Observe(p Report, now time.Time) (elapsed, eta time.Duration, ok bool) {
	if p.Stage != t.stage || p.Done < t.startDone || t.start.IsZero() {
		t.stage, t.start, t.startDone = p.Stage, now, p.Done
	}
	elapsed = now.Sub(t.start)
	done := p.Done - t.startDone
	if done <= 0 || elapsed <= 0 {
		return elapsed, 0, false
	}
	left := float64(p.Total-p.Done) / float64(done) * float64(elapsed)
	return elapsed, time.Duration(left), true
}
