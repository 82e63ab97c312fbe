package matrixio

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// leverageCSVHeader is the header of a leverage CSV file.
var leverageCSVHeader = []string{"index", "split", "label", "leverage"}

// WriteLeverageCSV writes the leverage CSV of ds and scores (see EncodeLeverageCSV) to path,
// atomically.
func WriteLeverageCSV(path string, ds *mnist.Dataset, scores []float64) error {
	if len(scores) != ds.N() {
		return fmt.Errorf("writing %s: %d scores for %d rows", path, len(scores), ds.N())
	}
	return fileio.WriteAtomic(path, func(w io.Writer) error { return EncodeLeverageCSV(w, ds, scores) })
}

// EncodeLeverageCSV writes to w one row per image of ds — index (row of the combined set), split
// ("train" or "test"), label, leverage (shortest round-trip float64) — under leverageCSVHeader.
// Errors: len(scores) ≠ ds.N(), or w's write error.
func EncodeLeverageCSV(w io.Writer, ds *mnist.Dataset, scores []float64) error {
	if len(scores) != ds.N() {
		return fmt.Errorf("%d scores for %d rows", len(scores), ds.N())
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(leverageCSVHeader, ",") + "\n")
	for i, s := range scores {
		fmt.Fprintf(bw, "%d,%s,%d,%s\n", i, ds.Split(i), ds.Labels[i], strconv.FormatFloat(s, 'g', -1, 64))
	}
	return bw.Flush()
}

// scoresCSVHeader is the header of the leverage CSV of a file basis (npy, csv), whose rows have no
// split or label.
var scoresCSVHeader = []string{"index", "leverage"}

// EncodeScoresCSV writes to w one row per score — index (the row of the basis file, from 0), leverage
// (shortest round-trip float64) — under scoresCSVHeader. Errors are w's.
func EncodeScoresCSV(w io.Writer, scores []float64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(strings.Join(scoresCSVHeader, ",") + "\n")
	var b []byte
	for i, s := range scores {
		b = strconv.AppendInt(b[:0], int64(i), 10)
		b = append(b, ',')
		b = strconv.AppendFloat(b, s, 'g', -1, 64)
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteScoresCSV writes the index,leverage CSV of scores (see EncodeScoresCSV) to path, atomically.
func WriteScoresCSV(path string, scores []float64) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error { return EncodeScoresCSV(w, scores) })
}

// LeverageTable is a parsed leverage CSV file. Split and Label are nil for a file of an npy or csv
// basis (header index,leverage), which has neither.
type LeverageTable struct {
	Index  []int
	Split  []string
	Label  []int
	Scores []float64
}

// ParseError is an error at a line of a CSV file.
type ParseError struct {
	Path string
	Line int
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }

func (e *ParseError) Unwrap() error { return e.Err }

// ReadLeverageCSV reads a file written by WriteLeverageCSV (header index,split,label,leverage) or by
// WriteScoresCSV (index,leverage). It must be a regular file. Errors name the file and line: a wrong
// header, a line over 4096 bytes (ErrLineTooLong), a malformed field, a NaN or out-of-range score,
// indices out of order, or no rows.
func ReadLeverageCSV(path string) (*LeverageTable, error) {
	f, _, err := fileio.OpenInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(&lineLimitReader{r: f, limit: maxLeverageLine, maxCommas: 3}))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1 // checked below, naming the line
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, &ParseError{path, 1, errors.New("empty file (want a leverage CSV with header index,split,label,leverage or index,leverage)")}
	}
	if err != nil {
		return nil, &ParseError{path, 1, fmt.Errorf("reading header: %w", err)}
	}
	full := strings.Join(head, ",") == strings.Join(leverageCSVHeader, ",")
	if !full && strings.Join(head, ",") != strings.Join(scoresCSVHeader, ",") {
		return nil, &ParseError{path, 1, fmt.Errorf("header %q, want %q or %q", abbrev(strings.Join(head, ","), 80),
			strings.Join(leverageCSVHeader, ","), strings.Join(scoresCSVHeader, ","))}
	}
	t := &LeverageTable{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ParseError{path, line, err}
		}
		if len(rec) != len(head) {
			return nil, &ParseError{path, line, fmt.Errorf("%d fields, the header has %d", len(rec), len(head))}
		}
		idx, err1 := strconv.Atoi(rec[0])
		score, err3 := strconv.ParseFloat(rec[len(rec)-1], 64)
		switch {
		case err1 != nil || idx != len(t.Index):
			return nil, &ParseError{path, line, fmt.Errorf("index %q, want %d", abbrev(rec[0], 40), len(t.Index))}
		case err3 != nil || !(score >= 0 && score <= 1):
			return nil, &ParseError{path, line, fmt.Errorf("leverage %q is not a number in [0, 1]", abbrev(rec[len(rec)-1], 40))}
		}
		if full {
			label, err2 := strconv.Atoi(rec[2])
			switch {
			case rec[1] != "train" && rec[1] != "test":
				return nil, &ParseError{path, line, fmt.Errorf("split %q, want train or test", abbrev(rec[1], 40))}
			case err2 != nil || label < 0 || label > 9:
				return nil, &ParseError{path, line, fmt.Errorf("label %q is not a digit", abbrev(rec[2], 40))}
			}
			t.Split = append(t.Split, rec[1])
			t.Label = append(t.Label, label)
		}
		t.Index = append(t.Index, idx)
		t.Scores = append(t.Scores, score)
	}
	if len(t.Index) == 0 {
		return nil, &ParseError{path, 2, errors.New("no rows")}
	}
	return t, nil
}
