package levlib

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Q1CSVHeader is the header of results.csv.
var Q1CSVHeader = []string{"basis", "strategy", "k", "seed", "classifier", "acc_selected", "acc_train", "acc_test", "seconds", "family"}

// WriteQ1 writes dir/results.csv (Q1CSVHeader, one row per fit) and dir/results.json (rows with class
// histograms, the summaries per basis and per family, the protocol), atomically.
func WriteQ1(dir string, r *Q1Result) error {
	err := WriteAtomic(filepath.Join(dir, "results.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(Q1CSVHeader)
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, row := range r.Rows {
			cw.Write([]string{row.Basis, string(row.Strategy), strconv.Itoa(row.K), strconv.FormatUint(row.Seed, 10), string(row.Classifier),
				f(row.AccSelected), f(row.AccTrain), f(row.AccTest), strconv.FormatFloat(row.Seconds, 'f', 3, 64), row.Family})
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(struct {
		*Q1Result
		Summary  []Q1Summary `json:"summary"`
		ByFamily []Q1Summary `json:"by_family"`
	}{r, r.Summarize(), r.ByFamily()}, "", "  ")
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
		row.Family = rec[9]
		if err := errors.Join(errs...); err != nil {
			return nil, &ParseError{path, line, err}
		}
		rows = append(rows, row)
	}
}

// Q1Figures draws, for each classifier and each accuracy (test, train), accuracy against k (log x) with
// a panel per basis family: top, bottom, sampled and balanced selections (the mean over the family's
// inits, with the range over inits as a band) and the random baseline (mean and range over seeds,
// dashed), as PNG and SVG in dir. Colours are the same for a strategy in every figure. It returns the
// files written.
func Q1Figures(dir string, r *Q1Result) ([]string, error) {
	fam := r.ByFamily()
	cls, families, _ := q1Axes(fam)
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		for _, cl := range cls {
			for _, metric := range []string{"test", "train"} {
				var panels []Panel
				for _, f := range families {
					pn := Panel{Title: f}
					if n := q1Inits(fam, f, cl); n > 1 {
						pn.Title = fmt.Sprintf("%s (%d inits)", f, n)
					}
					for _, st := range Strategies {
						family := f
						if st == StrategyRandom {
							family = randomFamily(fam, f, cl)
						}
						if c, ok := q1Curve(fam, family, st, cl, metric); ok {
							pn.Curves = append(pn.Curves, c)
						}
					}
					if len(pn.Curves) > 0 {
						panels = append(panels, pn)
					}
				}
				if len(panels) == 0 {
					continue
				}
				path := filepath.Join(dir, fmt.Sprintf("q1_%s_%s%s", cl, metric, ext))
				title := fmt.Sprintf("Question 1, %s classifier: %s accuracy after training on k selected rows", cl, metric)
				if err := PanelPlot(path, title, PlotOptions{XLabel: "k (selected training rows)", YLabel: metric + " accuracy", LogX: true}, panels); err != nil {
					return nil, err
				}
				files = append(files, path)
			}
		}
	}
	return files, nil
}

// q1Inits returns the number of inits of a family's summaries.
func q1Inits(fam []Q1Summary, family string, cl Classifier) int {
	n := 0
	for _, s := range fam {
		if s.Family == family && s.Classifier == cl {
			n = max(n, s.Inits)
		}
	}
	return n
}

// q1Curve is one strategy's accuracy against k for a family.
func q1Curve(fam []Q1Summary, family string, st Strategy, cl Classifier, metric string) (Curve, bool) {
	c := Curve{Label: string(st), Color: StrategyColor(st), Dashed: st == StrategyRandom}
	if st == StrategyRandom {
		c.Label = "random (mean, range over seeds)"
	}
	var band bool
	for _, s := range fam {
		if s.Family != family || s.Strategy != st || s.Classifier != cl {
			continue
		}
		v := s.Test
		if metric == "train" {
			v = s.Train
		}
		c.X, c.Y = append(c.X, float64(s.K)), append(c.Y, v.Mean)
		c.Lo, c.Hi = append(c.Lo, v.Min), append(c.Hi, v.Max)
		band = band || v.N > 1
	}
	if !band {
		c.Lo, c.Hi = nil, nil
	}
	return c, len(c.X) > 0
}

// FileStem turns a basis label into a file-name stem: relu:F=100,seed=2 → relu_F100_seed2 (":", ",",
// "/" become "_", "=" is dropped).
func FileStem(s string) string {
	return strings.NewReplacer(":", "_", ",", "_", "=", "", "/", "_").Replace(s)
}
