package leverage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// TestLeverageSummary checks the summary of a basis with one row alone in a column (ℓ = 1) and a
// duplicated column (rank 3 of 4): its fields, the JSON keys the report reads, and a file round trip.
func TestLeverageSummary(t *testing.T) {
	sel := testutil.Backend(t)
	dir := t.TempDir()
	x := matrixio.NewMatrix(50, 4)
	for i := 0; i < 50; i++ {
		a, b := math.Sin(float64(i)), math.Cos(float64(3*i))
		x.Data[i*4], x.Data[i*4+1], x.Data[i*4+2] = a, b, 2*a
	}
	x.Data[17*4+3] = 5 // column 3 is nonzero in row 17 only
	path := filepath.Join(dir, "x.npy")
	if err := matrixio.WriteNPYAs(path, x, "float64"); err != nil {
		t.Fatal(err)
	}
	spec := basis.Spec{Kind: basis.KindNPY, Path: path}
	res, err := basis.LeverageOfFile(context.Background(), sel.Backend, spec, leverage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := basis.FileSource(spec)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if src.Size != st.Size() || src.DType != "float64" || src.Format != "npy" || src.Path != path || src.Modified == "" {
		t.Errorf("source %+v", src)
	}
	s := leverage.NewSummary(src, res, 1500*time.Millisecond)
	if s.Rank != 3 || s.Rows != 50 || s.Cols != 4 || s.NearOne != 1 || len(s.NearOneRows) != 1 || s.NearOneRows[0] != 17 ||
		math.Abs(s.Sum-3) > 1e-12 || s.Max != 1 || s.Seconds != 1.5 || s.Method != "exact" || len(s.Warnings) != 2 || s.Versions["go"] == "" {
		t.Errorf("summary %+v", s)
	}
	var buf bytes.Buffer
	if err := leverage.WriteSummary(&buf, s); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"source", "rows", "cols", "method", "ridge", "rank", "tolerance", "sigma_max", "sigma_rank", "sigma_next",
		"near_one", "refined", "passes", "sum", "seconds", "warnings", "versions"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	out := filepath.Join(dir, "x.lev.npy")
	if err := leverage.WriteSummaryFile(leverage.SummaryPath(out), s); err != nil {
		t.Fatal(err)
	}
	back, err := leverage.ReadSummary(out + ".json")
	if err != nil || back.Rank != 3 || back.Source.Size != src.Size || back.NearOneRows[0] != 17 {
		t.Errorf("read back %+v, %v", back, err)
	}
	s.SigmaMax = math.NaN()
	if err := leverage.WriteSummary(&buf, s); err == nil {
		t.Error("NaN in the summary: no error")
	}
}
