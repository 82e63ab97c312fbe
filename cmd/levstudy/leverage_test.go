package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"gonum.org/v1/gonum/mat"
)

// readScoresCSV reads an index,leverage CSV as written for file bases.
func readScoresCSV(t *testing.T, path string) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "index,leverage" {
		t.Fatalf("%s: header %q", path, lines[0])
	}
	var out []float64
	for i, l := range lines[1:] {
		idx, v, _ := strings.Cut(l, ",")
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || idx != strconv.Itoa(i) {
			t.Fatalf("%s: line %d %q", path, i+2, l)
		}
		out = append(out, s)
	}
	return out
}

// readScoresNPY reads a 1-D float64 .npy file of scores.
func readScoresNPY(t *testing.T, path string, n int) []float64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if string(b[:6]) != "\x93NUMPY" || !strings.Contains(string(b[10:10+hl]), "'descr': '<f8'") ||
		!strings.Contains(string(b[10:10+hl]), "'shape': ("+strconv.Itoa(n)+",)") || len(b) != 10+hl+8*n {
		t.Fatalf("%s: bad .npy header %q (%d bytes)", path, b[:10+hl], len(b))
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[10+hl+8*i:]))
	}
	return out
}

func maxDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > m || math.IsNaN(d) {
			m = d
		}
	}
	return m
}

// TestLeverageNPYRoundTrip writes the embedding of an untrained CNN with `levstudy embed` and checks
// that `levstudy leverage -basis npy:` of that file gives the scores of `-basis cnn:C1` within 1e-12
// (as CSV and as .npy), with the JSON summaries beside them.
func TestLeverageNPYRoundTrip(t *testing.T) {
	data, dir := dataDir(t), t.TempDir()
	cache := filepath.Join(dir, "cache")
	emb := filepath.Join(dir, "e.npy")
	if _, stderr, err := runCLI(t, "embed", "-data", data, "-cache", cache, "-rows", "300", "-basis", "cnn:C1", "-out", emb); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	viaCNN := filepath.Join(dir, "c1.csv")
	if _, stderr, err := runCLI(t, "leverage", "-data", data, "-cache", cache, "-rows", "300", "-basis", "cnn:C1", "-out", viaCNN); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	tab, err := matrixio.ReadLeverageCSV(viaCNN)
	if err != nil {
		t.Fatal(err)
	}
	viaFile := filepath.Join(dir, "e.csv")
	stdout, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+emb, "-out", viaFile)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "wrote "+viaFile+".json") || !strings.Contains(stderr, "basis npy:"+emb+", 300 rows × 200 columns") ||
		!strings.Contains(stderr, "rank cut-off: σ_") {
		t.Errorf("stdout %q\nstderr %s", stdout, stderr)
	}
	got := readScoresCSV(t, viaFile)
	if len(got) != 300 || maxDiff(got, tab.Scores) > 1e-12 {
		t.Errorf("npy: vs cnn:C1: %d scores, max |Δℓ| = %.3g", len(got), maxDiff(got, tab.Scores))
	}
	npyOut := filepath.Join(dir, "e.lev.npy")
	if _, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+emb, "-out", npyOut); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if got := readScoresNPY(t, npyOut, 300); maxDiff(got, tab.Scores) > 1e-12 {
		t.Errorf(".npy output vs cnn:C1: max |Δℓ| = %.3g", maxDiff(got, tab.Scores))
	}
	for _, tc := range []struct {
		name, path, basis string
		file              bool
	}{{"cnn", viaCNN, "cnn:C1", false}, {"npy", npyOut, "npy:" + emb, true}} {
		s, err := leverage.ReadSummary(tc.path + ".json")
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(emb)
		if s.Source.Basis != tc.basis || s.Rows != 300 || s.Cols != 200 || s.Output != tc.path || math.Abs(s.Sum-float64(s.Rank)) > 1e-9 ||
			s.Versions["go"] == "" || (tc.file && (s.Source.Size != st.Size() || s.Source.DType != "float32")) || (!tc.file && s.Source.DataRows != 300) {
			t.Errorf("%s summary: %+v", tc.name, s)
		}
	}
}

// writeNPY writes x as a .npy file of dtype "float32" or "float64" and returns its path.
func writeNPY(t *testing.T, dir, name string, x *matrixio.Matrix, dtype string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := matrixio.WriteNPYAs(path, x, dtype); err != nil {
		t.Fatal(err)
	}
	return path
}

// randomMatrix returns an n×d Gaussian matrix whose last column is twice the first (rank d−1).
func randomMatrix(n, d int, seed uint64) *matrixio.Matrix {
	rng := rand.New(rand.NewPCG(seed, seed))
	x := matrixio.NewMatrix(n, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d-1; j++ {
			x.Data[i*d+j] = rng.NormFloat64() * float64(j+1)
		}
		x.Data[i*d+d-1] = 2 * x.Data[i*d]
	}
	return x
}

// TestLeverageFileErrors checks that each bad features file gets its own error at the CLI, naming the
// file (and the row and column of a bad value).
func TestLeverageFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeNPY(t, dir, "good.npy", randomMatrix(40, 5, 1), "float64")
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	variant := func(name string, edit func([]byte) []byte) string {
		c := edit(append([]byte(nil), b...))
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	intDType := variant("int.npy", func(c []byte) []byte { return bytes.Replace(c, []byte("'<f8'"), []byte("'<i8'"), 1) })
	half := variant("half.npy", func(c []byte) []byte { return bytes.Replace(c, []byte("'<f8'"), []byte("'<f2'"), 1) })
	fortran := variant("fortran.npy", func(c []byte) []byte { return bytes.Replace(c, []byte("False"), []byte("True "), 1) })
	truncated := variant("truncated.npy", func(c []byte) []byte { return c[:len(c)-12] })
	nanX := randomMatrix(40, 5, 2)
	nanX.Data[13*5+2] = math.NaN()
	nan := writeNPY(t, dir, "nan.npy", nanX, "float32")
	transposed := writeNPY(t, dir, "transposed.npy", matrixio.NewMatrix(5, 40), "float32")
	badCSV := filepath.Join(dir, "bad.csv")
	os.WriteFile(badCSV, []byte("a,b,c\n1,2,3\n4,x5,6\n"), 0o644)
	nanCSV := filepath.Join(dir, "nan.csv")
	os.WriteFile(nanCSV, []byte("a,b\n1,2\n3,4\n5,NaN\n"), 0o644)
	for _, tc := range []struct {
		name  string
		basis string
		extra []string
		want  string
	}{
		{"wrong dtype", "npy:" + intDType, nil, "int.npy: dtype '<i8' is not supported (want float32 '<f4' or float64 '<f8'"},
		{"float16", "npy:" + half, nil, "half.npy: dtype '<f2' is not supported"},
		{"Fortran order", "npy:" + fortran, nil, "fortran.npy: fortran_order is True"},
		{"truncated", "npy:" + truncated, nil, "truncated.npy: truncated: 40 rows × 5 columns of float64 need 1600 bytes after the header, the file has 1588"},
		{"NaN", "npy:" + nan, nil, "nan.npy: row 13, column 2 (X[13, 2], counted from 0) is NaN"},
		{"N < D", "npy:" + transposed, nil, "transposed.npy: 5 rows < 40 columns: the matrix is probably transposed"},
		{"csv bad cell", "csv:" + badCSV, nil, `bad.csv: line 3, column "b": "x5" is not a number`},
		{"csv NaN", "csv:" + nanCSV, nil, `nan.csv: data row 2 (counted from 0 after the header), column "b" is NaN`},
		{"missing file", "npy:" + filepath.Join(dir, "none.npy"), nil, "none.npy: no such file"},
		{"npy without a path", "npy:", nil, `flag -basis: basis "npy:": want npy:PATH`},
		{"rows with a file", "npy:" + good, []string{"-rows", "10"}, "flag -rows: applies to MNIST bases, not to npy:"},
		{"epochs with a file", "npy:" + good, []string{"-epochs", "2"}, "flag -epochs: applies to MNIST bases"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"leverage", "-basis", tc.basis, "-out", filepath.Join(dir, "out.csv")}, tc.extra...)
			_, stderr, err := runCLI(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q\n%s", err, tc.want, stderr)
			}
			if exitCode(err) != 1 {
				t.Errorf("exit code %d", exitCode(err))
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); err == nil {
		t.Error("a failed run wrote out.csv")
	}
}

// TestLeverageRidgeFlag checks -ridge's validation and that it turns Σℓ = rank into
// Σℓ(λ) = Σσ²/(σ²+λ) < rank, with σ from a gonum SVD of the file's matrix.
func TestLeverageRidgeFlag(t *testing.T) {
	dir := t.TempDir()
	x := randomMatrix(200, 8, 3) // rank 7
	path := writeNPY(t, dir, "x.npy", x, "float64")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative", []string{"-ridge", "-1"}, "flag -ridge: -1, want a finite λ ≥ 0"},
		{"NaN", []string{"-ridge", "NaN"}, "flag -ridge: NaN"},
		{"infinite", []string{"-ridge", "+Inf"}, "flag -ridge: +Inf"},
		{"with qr", []string{"-ridge", "1", "-method", "qr"}, "flag -ridge: ridge leverage needs -method exact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, append([]string{"leverage", "-basis", "npy:" + path, "-out", filepath.Join(dir, "r.csv")}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, _, err := runCLI(t, "leverage", "-basis", "npy:"+path, "-ridge", "lots", "-out", filepath.Join(dir, "r.csv")); exitCode(err) != 2 {
		t.Errorf("-ridge lots: %v", err)
	}
	var svd mat.SVD
	svd.Factorize(mat.NewDense(x.Rows, x.Cols, x.Data), mat.SVDNone)
	sv := svd.Values(nil)
	for _, tc := range []struct {
		name   string
		lambda float64
	}{{"exact", 0}, {"λ = σ_min²", sv[6] * sv[6]}, {"λ = σ_max²", sv[0] * sv[0]}} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "r.csv")
			_, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+path, "-ridge", strconv.FormatFloat(tc.lambda, 'g', -1, 64), "-out", out)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			got := 0.0
			for _, s := range readScoresCSV(t, out) {
				got += s
			}
			want := 0.0
			for _, s := range sv[:7] {
				want += s * s / (s*s + tc.lambda)
			}
			s, err := leverage.ReadSummary(out + ".json")
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-9 || s.Rank != 7 || s.Ridge != tc.lambda || math.Abs(s.Sum-got) > 1e-12 {
				t.Errorf("Σℓ = %.12f, want Σσ²/(σ²+λ) = %.12f; summary rank %d, ridge %g, sum %g", got, want, s.Rank, s.Ridge, s.Sum)
			}
			if tc.lambda > 0 && (got >= 7-1e-3 || !strings.Contains(stderr, "ridge: Σℓ(λ)")) {
				t.Errorf("ridge Σℓ = %v not below the rank 7; stderr %s", got, stderr)
			}
		})
	}
}

// TestLeverageFileOutputs checks the CSV on stdout (no summary file), a CSV basis, and the report of a
// row with ℓ = 1.
func TestLeverageFileOutputs(t *testing.T) {
	dir := t.TempDir()
	x := randomMatrix(60, 4, 4)
	for i := 0; i < 60; i++ {
		x.Data[i*4+2] = 0
	}
	x.Data[33*4+2] = 7 // column 2 lives in row 33 alone: ℓ_33 = 1
	path := writeNPY(t, dir, "x.npy", x, "float32")
	stdout, stderr, err := runCLI(t, "leverage", "-basis", "npy:"+path, "-out", "-")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.HasPrefix(stdout, "index,leverage\n0,") || strings.Count(stdout, "\n") != 61 || !strings.Contains(stdout, "\n33,1\n") {
		t.Errorf("stdout %q", stdout[:min(len(stdout), 200)])
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(m) != 0 {
		t.Errorf("-out - wrote %v", m)
	}
	if !strings.Contains(stderr, "rank 3, Σℓ = 3.000000, 1 rows with ℓ > 0.99") || !strings.Contains(stderr, "warning: basis npy:"+path+": 1 rows have leverage > 0.99") {
		t.Errorf("stderr %s", stderr)
	}
	// The same matrix as CSV.
	var b strings.Builder
	b.WriteString("a,b,c,d\n")
	for i := 0; i < 60; i++ {
		for j, v := range x.Row(i) {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(float64(float32(v)), 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	csvPath := filepath.Join(dir, "x.csv")
	os.WriteFile(csvPath, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "viacsv.csv")
	if _, stderr, err := runCLI(t, "leverage", "-basis", "csv:"+csvPath, "-out", out); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	s, err := leverage.ReadSummary(out + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.Format != "csv" || s.Rows != 60 || s.Cols != 4 || s.NearOne != 1 || len(s.NearOneRows) != 1 || s.NearOneRows[0] != 33 {
		t.Errorf("summary %+v", s)
	}
}
