package levlib_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/levstudy/levstudy/levlib"
)

func TestParseFileBasis(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		kind     levlib.BasisKind
		path     string
		err      string
	}{
		{"npy", "npy:feats.npy", levlib.KindNPY, "feats.npy", ""},
		{"csv", "csv:/data/x.csv", levlib.KindCSV, "/data/x.csv", ""},
		{"path with a colon", "npy:C:/runs/a:b.npy", levlib.KindNPY, "C:/runs/a:b.npy", ""},
		{"npy without a path", "npy", "", "", `basis "npy": want npy:PATH`},
		{"csv with an empty path", "csv:", "", "", `basis "csv:": want csv:PATH`},
		{"unknown kind lists the file kinds", "parquet:x", "", "", "npy:PATH.npy or csv:PATH.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := levlib.ParseBasis(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.Kind != tc.kind || spec.Path != tc.path || !spec.Kind.IsFile() || spec.String() != tc.in {
				t.Errorf("got %+v (%s)", spec, spec)
			}
		})
	}
	if levlib.KindRaw.IsFile() || levlib.KindTorch.IsFile() {
		t.Error("raw or torch counted as a file basis")
	}
}

// writeCSVMatrix writes x as a CSV matrix file with columns c0, c1, … and shortest round-trip values.
func writeCSVMatrix(t *testing.T, path string, x *levlib.Matrix) {
	t.Helper()
	var b strings.Builder
	for j := 0; j < x.Cols; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", j)
	}
	b.WriteByte('\n')
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStreamingLeverageMatchesMatrix checks that leverage read from a file in chunks smaller than N
// (a float64 .npy file, a float32 one, a CSV file) equals the in-memory computation on the same values
// (a *Matrix, automatic chunks) within 1e-12, on both exact paths and for ridge leverage.
func TestStreamingLeverageMatchesMatrix(t *testing.T) {
	sel := testBackend(t)
	ctx := context.Background()
	dir := t.TempDir()
	cases := synthCases()
	for _, tc := range []struct {
		name string
		x    *levlib.Matrix
		opts levlib.LeverageOptions
		// f32 adds a float32 .npy file; not for the rank-deficient cases, which rounding to float32 turns
		// into full-rank matrices with σ_min ≈ 1e-8·σ_max, whose scores depend on the summation order.
		f32 bool
	}{
		{"full rank, two-pass", cases[0].x, levlib.LeverageOptions{}, true},
		{"rank 25 of 40", cases[4].x, levlib.LeverageOptions{}, false},
		{"columns scaled 1..1e6", cases[5].x, levlib.LeverageOptions{}, true},
		{"two zero columns", cases[8].x, levlib.LeverageOptions{}, true},
		{"rank 25, refined", cases[4].x, levlib.LeverageOptions{Refinement: levlib.RefineAlways}, false},
		{"full rank, ridge", cases[0].x, levlib.LeverageOptions{Ridge: 0.5}, true},
		{"rank 25, ridge, refined", cases[4].x, levlib.LeverageOptions{Ridge: 1e-3, Refinement: levlib.RefineAlways}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			formats := []string{"float64", "csv"}
			if tc.f32 {
				formats = append(formats, "float32")
			}
			for _, format := range formats {
				x := tc.x
				if format == "float32" { // the in-memory reference holds the float32-rounded values
					x = &levlib.Matrix{Rows: tc.x.Rows, Cols: tc.x.Cols, Data: make([]float64, len(tc.x.Data))}
					for i, v := range tc.x.Data {
						x.Data[i] = float64(float32(v))
					}
				}
				want, err := levlib.LeverageScores(ctx, sel.Backend, x, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				var src levlib.RowSource
				if format == "csv" {
					path := filepath.Join(dir, "x.csv")
					writeCSVMatrix(t, path, x)
					f, err := levlib.OpenCSVMatrix(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					src = f
				} else {
					path := filepath.Join(dir, "x_"+format+".npy")
					if err := levlib.WriteNPYAs(path, x, format); err != nil {
						t.Fatal(err)
					}
					f, err := levlib.OpenNPY(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					src = f
				}
				opts := tc.opts
				opts.ChunkRows = 37 // 17 chunks of 600 rows, the last one short
				chunks := 0
				opts.Progress = func(p levlib.Progress) { chunks = max(chunks, p.Total) }
				got, err := levlib.LeverageScores(ctx, sel.Backend, src, opts)
				if err != nil {
					t.Fatal(err)
				}
				if chunks < 2 {
					t.Errorf("%s: %d chunks, want several", format, chunks)
				}
				d, i := maxAbsDiff(got.Scores, want.Scores)
				if d > 1e-12 || got.Rank != want.Rank || got.Refined != want.Refined {
					t.Errorf("%s: max |Δℓ| = %.3g at row %d, rank %d vs %d, refined %t vs %t", format, d, i, got.Rank, want.Rank,
						got.Refined, want.Refined)
				}
			}
		})
	}
}

func TestLeverageScoresFileErrors(t *testing.T) {
	sel := testBackend(t)
	dir := t.TempDir()
	ctx := context.Background()
	wide := filepath.Join(dir, "wide.npy")
	if err := levlib.WriteNPYAs(wide, levlib.NewMatrix(3, 5), "float64"); err != nil {
		t.Fatal(err)
	}
	x := synthCases()[0].x
	nan := &levlib.Matrix{Rows: x.Rows, Cols: x.Cols, Data: append([]float64(nil), x.Data...)}
	nan.Data[7*x.Cols+4] = math.NaN()
	nanNPY, nanCSV := filepath.Join(dir, "nan.npy"), filepath.Join(dir, "nan.csv")
	if err := levlib.WriteNPYAs(nanNPY, nan, "float32"); err != nil {
		t.Fatal(err)
	}
	nan.Data[7*x.Cols+4] = 1
	nan.Data[9*x.Cols+2] = math.Inf(-1)
	writeCSVMatrix(t, nanCSV, nan)
	for _, tc := range []struct {
		name string
		spec levlib.BasisSpec
		want string
	}{
		{"N < D", levlib.BasisSpec{Kind: levlib.KindNPY, Path: wide}, "3 rows < 5 columns: the matrix is probably transposed"},
		{"NaN in npy", levlib.BasisSpec{Kind: levlib.KindNPY, Path: nanNPY}, "nan.npy: row 7, column 4 (X[7, 4], counted from 0) is NaN"},
		{"-Inf in csv", levlib.BasisSpec{Kind: levlib.KindCSV, Path: nanCSV}, `nan.csv: data row 9 (counted from 0 after the header), column "c2" is -Inf`},
		{"missing file", levlib.BasisSpec{Kind: levlib.KindNPY, Path: filepath.Join(dir, "none.npy")}, "none.npy"},
		{"not a file basis", levlib.BasisSpec{Kind: levlib.KindRaw}, "not a file basis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := levlib.LeverageScoresFile(ctx, sel.Backend, tc.spec, levlib.LeverageOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// NonFiniteError is structured for callers.
	_, err := levlib.LeverageScores(ctx, sel.Backend, &levlib.Matrix{Rows: 3, Cols: 2, Data: []float64{1, 2, 3, math.Inf(1), 5, 6}}, levlib.LeverageOptions{})
	var nf *levlib.NonFiniteError
	if !errors.As(err, &nf) || nf.Row != 1 || nf.Col != 1 || !math.IsInf(nf.Value, 1) {
		t.Errorf("got %v (%+v)", err, nf)
	}
}

func TestWorkspaceRefusesFileBases(t *testing.T) {
	ws := &levlib.Workspace{}
	ctx := context.Background()
	for _, s := range []string{"npy:x.npy", "csv:x.csv"} {
		spec, err := levlib.ParseBasis(s)
		if err != nil {
			t.Fatal(err)
		}
		want := string(spec.Kind) + " bases are read with levstudy leverage"
		if _, err := ws.Basis(ctx, spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Basis(%s): %v", s, err)
		}
		if _, err := ws.Leverage(ctx, spec, levlib.LeverageOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Leverage(%s): %v", s, err)
		}
		if _, err := spec.Build(ctx, nil, nil, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s): %v", s, err)
		}
	}
}

// TestLeverageSummary checks the summary of a basis with one row alone in a column (ℓ = 1) and a
// duplicated column (rank 3 of 4): its fields, the JSON keys the report reads, and a file round trip.
func TestLeverageSummary(t *testing.T) {
	sel := testBackend(t)
	dir := t.TempDir()
	x := levlib.NewMatrix(50, 4)
	for i := 0; i < 50; i++ {
		a, b := math.Sin(float64(i)), math.Cos(float64(3*i))
		x.Data[i*4], x.Data[i*4+1], x.Data[i*4+2] = a, b, 2*a
	}
	x.Data[17*4+3] = 5 // column 3 is nonzero in row 17 only
	path := filepath.Join(dir, "x.npy")
	if err := levlib.WriteNPYAs(path, x, "float64"); err != nil {
		t.Fatal(err)
	}
	spec := levlib.BasisSpec{Kind: levlib.KindNPY, Path: path}
	res, err := levlib.LeverageScoresFile(context.Background(), sel.Backend, spec, levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := levlib.FileSource(spec)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if src.Size != st.Size() || src.DType != "float64" || src.Format != "npy" || src.Path != path || src.Modified == "" {
		t.Errorf("source %+v", src)
	}
	s := levlib.NewLeverageSummary(src, res, 1500*time.Millisecond)
	if s.Rank != 3 || s.Rows != 50 || s.Cols != 4 || s.NearOne != 1 || len(s.NearOneRows) != 1 || s.NearOneRows[0] != 17 ||
		math.Abs(s.Sum-3) > 1e-12 || s.Max != 1 || s.Seconds != 1.5 || s.Method != "exact" || len(s.Warnings) != 2 || s.Versions["go"] == "" {
		t.Errorf("summary %+v", s)
	}
	var buf bytes.Buffer
	if err := levlib.WriteLeverageSummary(&buf, s); err != nil {
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
	if err := levlib.WriteLeverageSummaryFile(levlib.SummaryPath(out), s); err != nil {
		t.Fatal(err)
	}
	back, err := levlib.ReadLeverageSummary(out + ".json")
	if err != nil || back.Rank != 3 || back.Source.Size != src.Size || back.NearOneRows[0] != 17 {
		t.Errorf("read back %+v, %v", back, err)
	}
	s.SigmaMax = math.NaN()
	if err := levlib.WriteLeverageSummary(&buf, s); err == nil {
		t.Error("NaN in the summary: no error")
	}
}

func TestScoresWriters(t *testing.T) {
	scores := []float64{0.5, 1, 1.0 / 3}
	var buf bytes.Buffer
	if err := levlib.EncodeScoresCSV(&buf, scores); err != nil {
		t.Fatal(err)
	}
	if want := "index,leverage\n0,0.5\n1,1\n2,0.3333333333333333\n"; buf.String() != want {
		t.Errorf("CSV %q, want %q", buf.String(), want)
	}
	buf.Reset()
	if err := levlib.EncodeNPYVector(&buf, scores); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if string(b[:8]) != "\x93NUMPY\x01\x00" || (10+hl)%64 != 0 || !strings.Contains(string(b[10:10+hl]), "'descr': '<f8', 'fortran_order': False, 'shape': (3,), }") ||
		len(b) != 10+hl+24 || math.Float64frombits(binary.LittleEndian.Uint64(b[10+hl+16:])) != 1.0/3 {
		t.Errorf("npy %q", b)
	}
}
