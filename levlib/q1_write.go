package levlib

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Q1CSVHeader is the header of results.csv.
var Q1CSVHeader = []string{"basis", "strategy", "k", "seed", "classifier", "acc_selected", "acc_train", "acc_test", "seconds"}

// WriteQ1 writes dir/results.csv (Q1CSVHeader, one row per fit) and dir/results.json (rows with class
// histograms, the seed summaries, the protocol), atomically.
func WriteQ1(dir string, r *Q1Result) error {
	err := WriteAtomic(filepath.Join(dir, "results.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(Q1CSVHeader)
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, row := range r.Rows {
			cw.Write([]string{row.Basis, string(row.Strategy), strconv.Itoa(row.K), strconv.FormatUint(row.Seed, 10), string(row.Classifier),
				f(row.AccSelected), f(row.AccTrain), f(row.AccTest), strconv.FormatFloat(row.Seconds, 'f', 3, 64)})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(struct {
		*Q1Result
		Summary []Q1Summary `json:"summary"`
	}{r, r.Summarize()}, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "results.json"), b)
}

// ReadQ1CSV reads a results.csv written by WriteQ1; errors name the file and line.
func ReadQ1CSV(path string) ([]Q1Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	head, err := cr.Read()
	if err != nil || strings.Join(head, ",") != strings.Join(Q1CSVHeader, ",") {
		return nil, &ParseError{path, 1, fmt.Errorf("header %q, want %q", strings.Join(head, ","), strings.Join(Q1CSVHeader, ","))}
	}
	var rows []Q1Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, &ParseError{path, line, err}
		}
		var row Q1Row
		var errs []error
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			errs = append(errs, err)
			return v
		}
		row.Basis = rec[0]
		st, err := ParseStrategy(rec[1])
		errs = append(errs, err)
		row.Strategy = st
		row.K, err = strconv.Atoi(rec[2])
		errs = append(errs, err)
		row.Seed, err = strconv.ParseUint(rec[3], 10, 64)
		errs = append(errs, err)
		cl, err := ParseClassifier(rec[4])
		errs = append(errs, err)
		row.Classifier = cl
		row.AccSelected, row.AccTrain, row.AccTest, row.Seconds = num(rec[5]), num(rec[6]), num(rec[7]), num(rec[8])
		if err := errors.Join(errs...); err != nil {
			return nil, &ParseError{path, line, err}
		}
		rows = append(rows, row)
	}
}

// Q1Figures draws, for each classifier, test accuracy against k (log x) for each basis — top, bottom,
// sampled and balanced selections and the random baseline's mean with its min–max band — and all
// bases' top-k curves on one plot, as PNG and SVG in dir. It returns the files written.
func Q1Figures(dir string, r *Q1Result) ([]string, error) {
	sum := r.Summarize()
	var bases []string
	var classifiers []Classifier
	for _, s := range sum {
		if !slices.Contains(bases, s.Basis) {
			bases = append(bases, s.Basis)
		}
		if !slices.Contains(classifiers, s.Classifier) {
			classifiers = append(classifiers, s.Classifier)
		}
	}
	curve := func(basis string, st Strategy, cl Classifier, label string, band bool) (Curve, bool) {
		c := Curve{Label: label}
		for _, s := range sum {
			if s.Basis == basis && s.Strategy == st && s.Classifier == cl {
				c.X = append(c.X, float64(s.K))
				c.Y = append(c.Y, s.Mean)
				if band && s.Seeds > 1 {
					c.Lo, c.Hi = append(c.Lo, s.Min), append(c.Hi, s.Max)
				}
			}
		}
		if len(c.Lo) != len(c.X) {
			c.Lo, c.Hi = nil, nil
		}
		c.Dashed = st == StrategyRandom
		return c, len(c.X) > 0
	}
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		for _, cl := range classifiers {
			for _, b := range bases {
				var cs []Curve
				for _, st := range Strategies {
					label := string(st)
					if st == StrategyRandom {
						label = "random (mean, min–max band)"
					}
					if c, ok := curve(b, st, cl, label, st == StrategyRandom); ok {
						cs = append(cs, c)
					}
				}
				path := filepath.Join(dir, fmt.Sprintf("q1_%s_%s%s", fileStem(b), cl, ext))
				title := fmt.Sprintf("%s, %s classifier: test accuracy of training on k selected rows", b, cl)
				if err := LinePlot(path, title, "k (selected training rows)", "test accuracy", true, cs); err != nil {
					return nil, err
				}
				files = append(files, path)
			}
			var cs []Curve
			for _, b := range bases {
				if c, ok := curve(b, StrategyTop, cl, b+" top-k", false); ok {
					cs = append(cs, c)
				}
			}
			if c, ok := curve(bases[0], StrategyRandom, cl, bases[0]+" random", true); ok {
				cs = append(cs, c)
			}
			path := filepath.Join(dir, fmt.Sprintf("q1_all_top_%s%s", cl, ext))
			if err := LinePlot(path, fmt.Sprintf("Top-k leverage selection, all bases (%s classifier)", cl), "k (selected training rows)", "test accuracy", true, cs); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

// fileStem turns a label into a file-name stem.
func fileStem(s string) string {
	return strings.NewReplacer(":", "_", ",", "_", "=", "", "/", "_").Replace(s)
}
