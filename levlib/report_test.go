package levlib

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteReport replaces report.html and results.json together or not at all: a figure that cannot be
// read is an error naming it, and leaves the previous pair as it was.
func TestWriteReportTogether(t *testing.T) {
	dir := t.TempDir()
	plan, err := Plan(StudyOptions{Preset: PresetTiny})
	if err != nil {
		t.Fatal(err)
	}
	fig := filepath.Join(dir, "figures", "raw_scores.png")
	if err := os.MkdirAll(filepath.Dir(fig), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fig, []byte("\x89PNG fake"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &StudyResult{Plan: plan, Backend: "test", Bases: []BasisReport{{Label: "raw", Spec: "raw", Figures: []string{fig}}}}
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page, results := read("report.html"), read("results.json")
	if !strings.Contains(page, "data:image/png;base64,") || !strings.Contains(results, `"spec": "raw"`) {
		t.Fatalf("report or results lack the basis: %d and %d bytes", len(page), len(results))
	}

	r.Backend = "second run"
	r.Bases[0].Figures = []string{filepath.Join(dir, "figures", "missing.png")}
	err = WriteReport(dir, r)
	if err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Fatalf("a missing figure: %v, want an error naming missing.png", err)
	}
	if read("report.html") != page || read("results.json") != results {
		t.Errorf("a failed report replaced report.html or results.json")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("files left in %s: %v, want figures/, report.html, results.json", dir, ents)
	}
}
