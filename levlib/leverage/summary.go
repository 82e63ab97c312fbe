package leverage

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/internal/buildinfo"
	"github.com/levstudy/levstudy/levlib/rankstat"
)

// Source says where the rows of a leverage computation came from: a basis of the MNIST images
// (Basis, Data, DataRows) or a file of features (Basis, Path, Format, DType, Size, Modified). Size and
// modification time identify the file cheaply (no hash of a file that may be larger than memory).
type Source struct {
	// Basis is the basis name (basis.Spec.String), e.g. "raw" or "npy:feats.npy".
	Basis string `json:"basis"`
	// Data is the MNIST data folder and DataRows the rows of the combined set used (image bases).
	Data     string `json:"data,omitempty"`
	DataRows int    `json:"data_rows,omitempty"`
	// Path is the file of a file basis (made absolute), Format "npy" or "csv", DType the .npy element type ("float32" or
	// "float64"; empty for CSV), Size its bytes and Modified its modification time (RFC 3339, UTC).
	Path     string `json:"path,omitempty"`
	Format   string `json:"format,omitempty"`
	DType    string `json:"dtype,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Modified string `json:"modified,omitempty"`
}

// Summary is the record of one leverage computation that is written beside its scores (the
// sidecar JSON of `levstudy leverage -out OUT`, OUT.json): where the rows came from, what was computed
// and how well determined it is. Build one with NewSummary; write it with WriteSummary.
//
// The rank cut-off: the r = Rank singular values σ_1 ≥ … ≥ σ_r of the column-scaled X (see
// Result.SingularValues) above Tolerance = σ_max·max(N, D)·eps64 are kept. SigmaRank and
// SigmaNext are σ_r and σ_{r+1} when SigmaBounds is false (the refined path), else a lower bound on
// σ_r and an upper bound on σ_{r+1} (the two-pass path, which skips the singular values). The rank is
// well determined when SigmaRank ≫ Tolerance ≫ SigmaNext.
type Summary struct {
	Source Source `json:"source"`
	// Output is the scores file the summary describes (empty when written elsewhere).
	Output string `json:"output,omitempty"`
	// Rows and Cols are N and D.
	Rows int `json:"rows"`
	Cols int `json:"cols"`
	// Method is "exact" or "qr"; Ridge is λ of ridge leverage ℓ_i(λ) = x_iᵀ(XᵀX + λI)⁻¹x_i (0: exact).
	Method string  `json:"method"`
	Ridge  float64 `json:"ridge"`
	// Rank, Tolerance, SigmaMax, SigmaRank, SigmaNext, SigmaBounds: the rank cut-off (see above).
	Rank        int     `json:"rank"`
	Tolerance   float64 `json:"tolerance"`
	SigmaMax    float64 `json:"sigma_max"`
	SigmaRank   float64 `json:"sigma_rank"`
	SigmaNext   float64 `json:"sigma_next"`
	SigmaBounds bool    `json:"sigma_bounds"`
	// NearOne counts the rows with ℓ > NearOneAbove (0.99); NearOneRows lists up to 100 of them,
	// highest score first.
	NearOne      int     `json:"near_one"`
	NearOneAbove float64 `json:"near_one_above"`
	NearOneRows  []int   `json:"near_one_rows,omitempty"`
	// Sum is Σℓ_i: the rank r for exact scores, Σσ_j²/(σ_j² + λ) < r for ridge scores. Min and Max are
	// the smallest and largest score.
	Sum float64 `json:"sum"`
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Refined and Passes: the exact method's path and its passes over X.
	Refined bool `json:"refined"`
	Passes  int  `json:"passes"`
	// Seconds is the wall time of the computation (or of loading it from a cache).
	Seconds float64 `json:"seconds"`
	// Warnings are Result.Warnings as text.
	Warnings []string `json:"warnings"`
	// Versions: "levstudy" (the module version, and the VCS revision when built from a checkout), "go"
	// and "gomlx" of the running binary.
	Versions map[string]string `json:"versions"`
}

// maxNearOneRows bounds Summary.NearOneRows.
const maxNearOneRows = 100

// NewSummary returns the summary of res, computed from src in elapsed time. Versions are those
// of the running binary (runtime/debug.ReadBuildInfo).
func NewSummary(src Source, res *Result, elapsed time.Duration) Summary {
	s := Summary{Source: src, Rows: res.Rows, Cols: res.Cols, Method: res.Method.String(), Ridge: res.Ridge,
		Rank: res.Rank, Tolerance: res.Tolerance, SigmaMax: res.SigmaMax, SigmaRank: res.SigmaRank, SigmaNext: res.SigmaNext,
		SigmaBounds: res.Method == Exact && !res.Refined, NearOne: res.NearOne, NearOneAbove: nearOne,
		Refined: res.Refined, Passes: res.Passes, Seconds: elapsed.Seconds(), Warnings: []string{}, Versions: buildinfo.Versions()}
	if len(res.Scores) > 0 {
		s.Min, s.Max = math.Inf(1), math.Inf(-1)
	}
	for _, v := range res.Scores {
		s.Sum += v
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
	}
	if res.NearOne > 0 {
		s.NearOneRows = rankstat.TopK(res.Scores, min(res.NearOne, maxNearOneRows))
	}
	for _, w := range res.Warnings {
		s.Warnings = append(s.Warnings, w.Error())
	}
	return s
}

// WriteSummary writes s to w as indented JSON (one object, ending in a newline). Errors: a
// non-finite number in s (JSON has none), or w's write error.
func WriteSummary(w io.Writer, s Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("leverage summary: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteSummaryFile writes s as JSON (see WriteSummary) to path, atomically.
func WriteSummaryFile(path string, s Summary) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error { return WriteSummary(w, s) })
}

// ReadSummary reads a file written by WriteSummaryFile. Errors name the file.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// SummaryPath returns the path of the sidecar summary of the scores file out: out + ".json".
func SummaryPath(out string) string { return out + ".json" }
