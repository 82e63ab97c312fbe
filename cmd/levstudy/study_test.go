package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/internal/imgcheck"
)

// TestRunTiny runs `levstudy run -preset tiny` end to end and checks the report like a user would:
// every figure file is a non-empty image, the HTML references only embedded data, and headless
// Chromium renders it to a non-blank screenshot.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end study run; skipped under -short")
	}
	data, dir := dataDir(t), t.TempDir()
	out := filepath.Join(dir, "study")
	stdout, stderr, err := runCLI(t, "run", "-preset", "tiny", "-data", data, "-cache", filepath.Join(dir, "cache"), "-out", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, want := range []string{"preset tiny", "rank", "Q1 raw", "Q2 tau-b within C", "report: " + filepath.Join(out, "report.html")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "figures", "*.png"))
	more, _ := filepath.Glob(filepath.Join(out, "figures", "*", "*.png"))
	pngs = append(pngs, more...)
	if len(pngs) < 20 {
		t.Errorf("only %d PNG figures", len(pngs))
	}
	for _, p := range pngs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, f := range []string{"results.json", "q1/results.csv", "q1/results.json", "q2/pairs.csv", "q2/summary.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(html), -1)
	if len(refs) < 20 {
		t.Errorf("report has %d images", len(refs))
	}
	for _, r := range refs {
		switch {
		case strings.HasPrefix(r[1], "data:image/png;base64,"):
		case strings.HasPrefix(r[1], "#") && bytes.Contains(html, []byte(`id="`+r[1][1:]+`"`)):
			// a link to a section of the page
		default:
			t.Errorf("report references %q, neither embedded data nor a section of the page", r[1][:min(60, len(r[1]))])
		}
	}
	for _, s := range []string{"Findings", "Question 1", "Question 2", "Kendall tau-b", "rank-deficient", `class="q1"`, `class="tau"`,
		"partial tau | ink", "ridge λ", "quantiles of 100 shuffles", "linear classifier", "cnn classifier"} {
		if !bytes.Contains(html, []byte(s)) {
			t.Errorf("report lacks %q", s)
		}
	}
	var results struct {
		Findings []struct {
			Text    string             `json:"text"`
			Numbers map[string]float64 `json:"numbers"`
		} `json:"findings"`
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil || json.Unmarshal(b, &results) != nil || len(results.Findings) < 4 {
		t.Fatalf("results.json findings: %v, %d", err, len(results.Findings))
	}
	for _, f := range results.Findings {
		if len(f.Numbers) == 0 || !strings.Contains(string(html), strings.ReplaceAll(f.Text, "'", "&#39;")[:40]) {
			t.Errorf("finding without numbers or not in the report: %+v", f)
		}
	}
	checkJSONKeys(t, b)
	// A second run on the same cache (a new process: nothing in memory) takes Q1's fits, the networks,
	// the leverage and Question 2 from the disk cache, and reports the same numbers with every figure.
	again := filepath.Join(dir, "again")
	if _, stderr, err := runCLI(t, "run", "-preset", "tiny", "-data", data, "-cache", filepath.Join(dir, "cache"), "-out", again); err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr)
	}
	var second struct {
		Findings []struct {
			Text string `json:"text"`
		} `json:"findings"`
	}
	if b, err := os.ReadFile(filepath.Join(again, "results.json")); err != nil || json.Unmarshal(b, &second) != nil || len(second.Findings) != len(results.Findings) {
		t.Fatalf("second run's findings: %v, %d vs %d", err, len(second.Findings), len(results.Findings))
	}
	for i := range second.Findings {
		if second.Findings[i].Text != results.Findings[i].Text {
			t.Errorf("finding %d differs on the cached run:\n%s\n%s", i, results.Findings[i].Text, second.Findings[i].Text)
		}
	}
	pngs2, _ := filepath.Glob(filepath.Join(again, "figures", "*.png"))
	more2, _ := filepath.Glob(filepath.Join(again, "figures", "*", "*.png"))
	if len(pngs2)+len(more2) != len(pngs) {
		t.Errorf("cached run drew %d figures, the first %d", len(pngs2)+len(more2), len(pngs))
	}
	shot := filepath.Join(dir, "report.png")
	cmd := exec.Command("../../scripts/screenshot.sh", filepath.Join(out, "report.html"), shot, "1280,2000")
	if b, err := cmd.CombinedOutput(); err != nil {
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3 && os.Getenv("CI") != "true" {
			t.Skipf("no Chromium: %s", b)
		}
		t.Fatalf("screenshot: %v\n%s", err, b)
	}
	checkNotBlank(t, shot)
}

// checkNotBlank fails unless the PNG looks like a rendered page (imgcheck.NotBlank).
func checkNotBlank(t *testing.T, path string) {
	t.Helper()
	if _, err := imgcheck.NotBlank(path); err != nil {
		t.Error(err)
	}
}

// dataMaps are the results.json fields whose keys are data (basis labels, file names, versions), not
// field names.
var dataMaps = map[string]bool{"versions": true, "data_sha256": true, "ranks": true, "families": true, "groups": true, "ink_tau": true,
	"near_one": true, "ties": true, "protocol": true, "numbers": true}

// checkJSONKeys fails unless every field name of results.json is snake_case and every basis is named
// as on the command line ("cnn:A1", not a struct with "Group": 65), so pandas users can rely on it.
func checkJSONKeys(t *testing.T, b []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snake.MatchString(k) {
					t.Errorf("results.json%s: key %q is not snake_case", path, k)
				}
				if !dataMaps[k] {
					walk(path+"."+k, e)
				}
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	var plan struct {
		Plan struct {
			Bases []string `json:"bases"`
			Q1    struct {
				Seeds int `json:"seeds"`
			} `json:"q1"`
		} `json:"plan"`
	}
	if err := json.Unmarshal(b, &plan); err != nil || len(plan.Plan.Bases) == 0 || plan.Plan.Q1.Seeds < 2 {
		t.Fatalf("results.json plan: %v %+v", err, plan)
	}
	if !slices.Contains(plan.Plan.Bases, "cnn:A1") || !slices.Contains(plan.Plan.Bases, "raw") {
		t.Errorf("results.json names the bases %v, want them as on the command line (raw, cnn:A1, …)", plan.Plan.Bases)
	}
}
