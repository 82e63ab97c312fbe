package q1

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

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// csvHeader is the header of results.csv.
// acc_rest is empty where a fit has none (it was trained on every evaluation row).
var csvHeader = []string{"basis", "strategy", "k", "seed", "classifier", "acc_selected", "acc_train", "acc_test", "seconds", "family", "acc_rest"}

// Write writes dir/results.csv (csvHeader, one row per fit) and dir/results.json (rows with class
// histograms, the summaries per basis and per family with their intervals, the effect sizes against
// random, the protocol), replaced together or not at all (fileio.WriteAtomicGroup).
func Write(dir string, r *Result) error {
	b, err := json.MarshalIndent(struct {
		*Result
		Summary  []Summary `json:"summary"`
		ByFamily []Summary `json:"by_family"`
		Effects  []Effect  `json:"effects"`
	}{r, r.Summarize(), r.ByFamily(), r.Effects()}, "", "  ")
	if err != nil {
		return fmt.Errorf("q1 results: %w", err)
	}
	rows := func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(csvHeader)
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for _, row := range r.Rows {
			rest := ""
			if row.AccRest != nil {
				rest = f(*row.AccRest)
			}
			cw.Write([]string{row.Basis, string(row.Strategy), strconv.Itoa(row.K), strconv.FormatUint(row.Seed, 10), string(row.Classifier),
				f(row.AccSelected), f(row.AccTrain), f(row.AccTest), strconv.FormatFloat(row.Seconds, 'f', 3, 64), row.Family, rest})
		}
		cw.Flush()
		return cw.Error()
	}
	return fileio.WriteAtomicGroup(fileio.AtomicFile{Path: filepath.Join(dir, "results.csv"), Write: rows},
		fileio.AtomicFile{Path: filepath.Join(dir, "results.json"), Write: func(w io.Writer) error { _, err := w.Write(b); return err }})
}

// ReadCSV reads a results.csv written by Write; errors name the file and line.
func ReadCSV(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	head, err := cr.Read()
	if err != nil || strings.Join(head, ",") != strings.Join(csvHeader, ",") {
		return nil, &matrixio.ParseError{Path: path, Line: 1, Err: fmt.Errorf("header %q, want %q", strings.Join(head, ","), strings.Join(csvHeader, ","))}
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, &matrixio.ParseError{Path: path, Line: line, Err: err}
		}
		var row Row
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
		if rec[10] != "" {
			rest := num(rec[10])
			row.AccRest = &rest
		}
		if err := errors.Join(errs...); err != nil {
			return nil, &matrixio.ParseError{Path: path, Line: line, Err: err}
		}
		rows = append(rows, row)
	}
}
