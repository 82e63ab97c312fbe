package progress

import (
	"testing"
	"time"
)

// TestProgressTimerResume checks the ETA of a stage first seen at 97 of 188 (a resumed training run): the
// rate comes from the reports this timer saw, not from the 97 done before it started.
func TestProgressTimerResume(t *testing.T) {
	var pt Timer
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if el, _, ok := pt.Observe(Report{Stage: "train A5", Done: 97, Total: 188}, t0); ok || el != 0 {
		t.Errorf("first report: elapsed %v, ok %t; want 0 and unknown ETA", el, ok)
	}
	el, eta, ok := pt.Observe(Report{Stage: "train A5", Done: 107, Total: 188}, t0.Add(10*time.Second))
	if !ok || el != 10*time.Second || eta != 81*time.Second {
		t.Errorf("after 10 steps in 10 s: elapsed %v, ETA %v (ok %t); want 10s and 81s", el, eta, ok)
	}
	// A new stage restarts the clock.
	if el, _, ok := pt.Observe(Report{Stage: "embed", Done: 1, Total: 5}, t0.Add(20*time.Second)); ok || el != 0 {
		t.Errorf("new stage: elapsed %v, ok %t", el, ok)
	}
}
