package basis_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/progress"
)

func TestParseFileBasis(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		kind     basis.Kind
		path     string
		err      string
	}{
		{"npy", "npy:feats.npy", basis.KindNPY, "feats.npy", ""},
		{"csv", "csv:/data/x.csv", basis.KindCSV, "/data/x.csv", ""},
		{"path with a colon", "npy:C:/runs/a:b.npy", basis.KindNPY, "C:/runs/a:b.npy", ""},
		{"npy without a path", "npy", "", "", `basis "npy": want npy:PATH`},
		{"csv with an empty path", "csv:", "", "", `basis "csv:": want csv:PATH`},
		{"unknown kind lists the file kinds", "parquet:x", "", "", "npy:PATH.npy or csv:PATH.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := basis.Parse(tc.in)
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
	if basis.KindRaw.IsFile() || basis.KindTorch.IsFile() {
		t.Error("raw or torch counted as a file basis")
	}
}

// writeCSVMatrix writes x as a CSV matrix file with columns c0, c1, … and shortest round-trip values.
func writeCSVMatrix(t *testing.T, path string, x *matrixio.Matrix) {
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
	sel := testutil.Backend(t)
	ctx := context.Background()
	dir := t.TempDir()
	cases := testutil.SynthCases()
	for _, tc := range []struct {
		name string
		x    *matrixio.Matrix
		opts leverage.Options
		// f32 adds a float32 .npy file; not for the rank-deficient cases, which rounding to float32 turns
		// into full-rank matrices with σ_min ≈ 1e-8·σ_max, whose scores depend on the summation order.
		f32 bool
	}{
		{"full rank, two-pass", cases[0].X, leverage.Options{}, true},
		{"rank 25 of 40", cases[4].X, leverage.Options{}, false},
		{"columns scaled 1..1e6", cases[5].X, leverage.Options{}, true},
		{"two zero columns", cases[8].X, leverage.Options{}, true},
		{"rank 25, refined", cases[4].X, leverage.Options{Refinement: leverage.RefineAlways}, false},
		{"full rank, ridge", cases[0].X, leverage.Options{Ridge: 0.5}, true},
		{"rank 25, ridge, refined", cases[4].X, leverage.Options{Ridge: 1e-3, Refinement: leverage.RefineAlways}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			formats := []string{"float64", "csv"}
			if tc.f32 {
				formats = append(formats, "float32")
			}
			for _, format := range formats {
				x := tc.x
				if format == "float32" { // the in-memory reference holds the float32-rounded values
					x = &matrixio.Matrix{Rows: tc.x.Rows, Cols: tc.x.Cols, Data: make([]float64, len(tc.x.Data))}
					for i, v := range tc.x.Data {
						x.Data[i] = float64(float32(v))
					}
				}
				want, err := leverage.Scores(ctx, sel.Backend, x, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				var src matrixio.RowSource
				if format == "csv" {
					path := filepath.Join(dir, "x.csv")
					writeCSVMatrix(t, path, x)
					f, err := matrixio.OpenCSV(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					src = f
				} else {
					path := filepath.Join(dir, "x_"+format+".npy")
					if err := matrixio.WriteNPYAs(path, x, format); err != nil {
						t.Fatal(err)
					}
					f, err := matrixio.OpenNPY(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					src = f
				}
				opts := tc.opts
				opts.ChunkRows = 37 // 17 chunks of 600 rows, the last one short
				chunks := 0
				opts.Progress = func(p progress.Report) { chunks = max(chunks, p.Total) }
				got, err := leverage.Scores(ctx, sel.Backend, src, opts)
				if err != nil {
					t.Fatal(err)
				}
				if chunks < 2 {
					t.Errorf("%s: %d chunks, want several", format, chunks)
				}
				d, i := testutil.MaxAbsDiff(got.Scores, want.Scores)
				if d > 1e-12 || got.Rank != want.Rank || got.Refined != want.Refined {
					t.Errorf("%s: max |Δℓ| = %.3g at row %d, rank %d vs %d, refined %t vs %t", format, d, i, got.Rank, want.Rank,
						got.Refined, want.Refined)
				}
			}
		})
	}
}

func TestLeverageScoresFileErrors(t *testing.T) {
	sel := testutil.Backend(t)
	dir := t.TempDir()
	ctx := context.Background()
	wide := filepath.Join(dir, "wide.npy")
	if err := matrixio.WriteNPYAs(wide, matrixio.NewMatrix(3, 5), "float64"); err != nil {
		t.Fatal(err)
	}
	x := testutil.SynthCases()[0].X
	nan := &matrixio.Matrix{Rows: x.Rows, Cols: x.Cols, Data: append([]float64(nil), x.Data...)}
	nan.Data[7*x.Cols+4] = math.NaN()
	nanNPY, nanCSV := filepath.Join(dir, "nan.npy"), filepath.Join(dir, "nan.csv")
	if err := matrixio.WriteNPYAs(nanNPY, nan, "float32"); err != nil {
		t.Fatal(err)
	}
	nan.Data[7*x.Cols+4] = 1
	nan.Data[9*x.Cols+2] = math.Inf(-1)
	writeCSVMatrix(t, nanCSV, nan)
	for _, tc := range []struct {
		name string
		spec basis.Spec
		want string
	}{
		{"N < D", basis.Spec{Kind: basis.KindNPY, Path: wide}, "3 rows < 5 columns: the matrix is probably transposed"},
		{"NaN in npy", basis.Spec{Kind: basis.KindNPY, Path: nanNPY}, "nan.npy: row 7, column 4 (X[7, 4], counted from 0) is NaN"},
		{"-Inf in csv", basis.Spec{Kind: basis.KindCSV, Path: nanCSV}, `nan.csv: data row 9 (counted from 0 after the header), column "c2" is -Inf`},
		{"missing file", basis.Spec{Kind: basis.KindNPY, Path: filepath.Join(dir, "none.npy")}, "none.npy"},
		{"not a file basis", basis.Spec{Kind: basis.KindRaw}, "not a file basis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := basis.LeverageOfFile(ctx, sel.Backend, tc.spec, leverage.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// NonFiniteError is structured for callers.
	_, err := leverage.Scores(ctx, sel.Backend, &matrixio.Matrix{Rows: 3, Cols: 2, Data: []float64{1, 2, 3, math.Inf(1), 5, 6}}, leverage.Options{})
	var nf *matrixio.NonFiniteError
	if !errors.As(err, &nf) || nf.Row != 1 || nf.Col != 1 || !math.IsInf(nf.Value, 1) {
		t.Errorf("got %v (%+v)", err, nf)
	}
}

func TestScoresWriters(t *testing.T) {
	scores := []float64{0.5, 1, 1.0 / 3}
	var buf bytes.Buffer
	if err := matrixio.EncodeScoresCSV(&buf, scores); err != nil {
		t.Fatal(err)
	}
	if want := "index,leverage\n0,0.5\n1,1\n2,0.3333333333333333\n"; buf.String() != want {
		t.Errorf("CSV %q, want %q", buf.String(), want)
	}
	buf.Reset()
	if err := matrixio.EncodeNPYVector(&buf, scores); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if string(b[:8]) != "\x93NUMPY\x01\x00" || (10+hl)%64 != 0 || !strings.Contains(string(b[10:10+hl]), "'descr': '<f8', 'fortran_order': False, 'shape': (3,), }") ||
		len(b) != 10+hl+24 || math.Float64frombits(binary.LittleEndian.Uint64(b[10+hl+16:])) != 1.0/3 {
		t.Errorf("npy %q", b)
	}
}
