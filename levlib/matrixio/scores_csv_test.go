package matrixio_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

func TestLeverageCSVRoundTrip(t *testing.T) {
	ds := testutil.TinyDataset(8)
	scores := []float64{0.5, 1, 0, 1e-300, 0.1234567890123456789, 2.0 / 3, 0.25, 1e-5}
	path := filepath.Join(t.TempDir(), "out", "lev.csv")
	if err := matrixio.WriteLeverageCSV(path, ds, scores); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	if lines[0] != "index,split,label,leverage" || lines[1] != "0,train,0,0.5" || lines[8] != "7,test,7,1e-05" {
		t.Errorf("unexpected CSV:\n%s", b)
	}
	tab, err := matrixio.ReadLeverageCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range scores {
		if tab.Scores[i] != s || tab.Index[i] != i || tab.Label[i] != i%10 || tab.Split[i] != ds.Split(i) {
			t.Errorf("row %d: %v %v %v %v", i, tab.Index[i], tab.Split[i], tab.Label[i], tab.Scores[i])
		}
	}
	if err := matrixio.WriteLeverageCSV(path, ds, scores[:3]); err == nil {
		t.Error("3 scores for 8 rows: no error")
	}
}

func TestReadLeverageCSVErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, body, want string }{
		{"header", "i,s,l,v\n0,train,1,0.5\n", ":1: header"},
		{"nan", "index,split,label,leverage\n0,train,1,0.5\n1,train,2,NaN\n", ":3: leverage \"NaN\""},
		{"above one", "index,split,label,leverage\n0,train,1,1.5\n", ":2: leverage \"1.5\""},
		{"order", "index,split,label,leverage\n1,train,1,0.5\n", ":2: index \"1\", want 0"},
		{"split", "index,split,label,leverage\n0,val,1,0.5\n", ":2: split \"val\""},
		{"label", "index,split,label,leverage\n0,train,x,0.5\n", ":2: label \"x\""},
		{"fields", "index,split,label,leverage\n0,train,1\n", ":2:"},
		{"empty", "index,split,label,leverage\n", "no rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".csv")
			os.WriteFile(path, []byte(tc.body), 0o644)
			_, err := matrixio.ReadLeverageCSV(path)
			var pe *matrixio.ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a ParseError naming %s with %q", err, path, tc.want)
			}
		})
	}
}
