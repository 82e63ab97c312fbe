package matrixio

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/levstudy/levstudy/internal/fileio"
)

// CSVFile is an N×D matrix in a CSV file, read row by row on demand: a RowSource whose memory is
// O(D) however many rows the file has. Open one with OpenCSV; the zero value is not usable. A
// CSVFile is not safe for concurrent use.
//
// The file (RFC 4180, comma-separated, as written by pandas' DataFrame.to_csv(index=False) or
// np.savetxt(path, X, delimiter=",", header=",".join(names), comments="")) has one header row of D
// column names, then N ≥ 1 rows of D numbers each, D ≤ MaxCols. A first row that holds only numbers is
// refused as a missing header (it would otherwise be lost as column names), unless it is 0, 1, …, D−1
// or 1, 2, …, D (pandas' default column names). Spaces around fields are ignored. A number is anything strconv.ParseFloat
// accepts, including "NaN", "nan", "Inf", "-inf" (these are passed through as values). Blank lines
// are skipped; a UTF-8 byte-order mark before the header is ignored. A line longer than MaxCols·64 +
// 4096 bytes is an error as soon as it is read, so a file without line breaks (a binary file, a
// device) costs no more memory than that. The file must be a regular file (it is read twice: a named
// pipe is refused before it is opened).
type CSVFile struct {
	path   string
	cols   []string
	rows   int
	f      *os.File    // open during a pass, nil between passes
	r      *csv.Reader // reads f, positioned before row pos
	pos    int
	closed bool
}

var _ RowSource = (*CSVFile)(nil)

// OpenCSV opens a CSV matrix file (see CSVFile for the format), reading it once to count its
// rows and to check that every row has as many fields as the header and every field is a number, so
// that ReadRows later fails only if the file changes. The caller must Close it.
//
// Errors name the file and the line (and the column, by its header name): not a regular file
// (fileio.ErrNotRegular), an empty file, a first line of numbers (no header), more than MaxCols
// columns, a line that is too long (ErrLineTooLong), a file with only a header, a row with the wrong
// number of fields, a field that is not a number or is out of the float64 range, or a CSV syntax
// error.
func OpenCSV(path string) (*CSVFile, error) {
	c := &CSVFile{path: path}
	if err := c.restart(); err != nil {
		return nil, err
	}
	defer c.stop()
	row := make([]float64, len(c.cols))
	for {
		rec, err := c.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, c.readErr(err)
		}
		if err := c.parse(rec, row); err != nil {
			return nil, err
		}
		c.rows++
	}
	if c.rows == 0 {
		return nil, fmt.Errorf("%s: no data rows after the header (want one row of %d numbers per sample)", path, len(c.cols))
	}
	return c, nil
}

// Dims returns the number of data rows N and columns D.
func (c *CSVFile) Dims() (rows, cols int) { return c.rows, len(c.cols) }

// Columns returns the column names from the header row, spaces trimmed (a copy).
func (c *CSVFile) Columns() []string { return slices.Clone(c.cols) }

// ReadRows parses rows [lo, hi) into dst[:(hi−lo)·D]. A call whose lo is the row after the previous
// call's hi continues reading the file; a smaller lo (a new pass) reopens the file and reads from its
// start; a larger lo skips the rows in between. NaN and ±Inf are passed through. Errors name the file
// (and line and column): a range outside [0, N], dst shorter than (hi−lo)·D, a call after Close, or a
// file that changed since OpenCSV (a bad field, or fewer rows). After an error the next call
// starts a new pass.
func (c *CSVFile) ReadRows(dst []float64, lo, hi int) error {
	if c.closed {
		return fmt.Errorf("%s: ReadRows after Close", c.path)
	}
	d := len(c.cols)
	if lo < 0 || hi > c.rows || lo > hi {
		return fmt.Errorf("%s: rows [%d, %d) outside the file's %d rows", c.path, lo, hi, c.rows)
	}
	if need := (hi - lo) * d; len(dst) < need {
		return fmt.Errorf("%s: rows [%d, %d) need %d values, dst holds %d", c.path, lo, hi, need, len(dst))
	}
	if lo == hi {
		return nil
	}
	if c.r == nil || lo < c.pos {
		if err := c.restart(); err != nil {
			return err
		}
	}
	for c.pos < hi {
		rec, err := c.r.Read()
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%s: the file ends at row %d, but had %d rows when opened (was it changed?)", c.path, c.pos, c.rows)
		} else if err != nil {
			err = c.readErr(err)
		} else if c.pos >= lo {
			err = c.parse(rec, dst[(c.pos-lo)*d:(c.pos-lo+1)*d])
		}
		if err != nil {
			c.stop()
			return err
		}
		c.pos++
	}
	return nil
}

// Close closes the file. Calling it again returns nil; ReadRows after Close is an error.
func (c *CSVFile) Close() error {
	c.closed = true
	return c.stop()
}

// restart opens the file, reads its header and positions the reader before row 0. On the first call
// it sets c.cols; later it checks that the header still has as many columns.
func (c *CSVFile) restart() error {
	c.stop()
	f, _, err := fileio.OpenInput(c.path)
	if err != nil {
		return err
	}
	br := bufio.NewReader(&lineLimitReader{r: f, limit: maxMatrixLine, maxCommas: MaxCols})
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1 // parse checks the count, naming the line
	r.ReuseRecord = true
	r.TrimLeadingSpace = true
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		f.Close()
		return fmt.Errorf("%s: empty file (want a header row of column names, then one row of numbers per sample)", c.path)
	}
	if err != nil {
		f.Close()
		return c.readErr(err)
	}
	if len(head) > MaxCols {
		f.Close()
		return fmt.Errorf("%s: the header has %d columns, at most %d are supported (the D×D Gram matrix alone would need %.1f GiB)",
			c.path, len(head), MaxCols, float64(len(head))*float64(len(head))*8/(1<<30))
	}
	if c.cols == nil {
		if numericHeader(head) {
			f.Close()
			return fmt.Errorf(`%s: line 1 holds %d numbers, not column names: the first line must be a header row (e.g. np.savetxt(path, X, delimiter=",", header=",".join(names), comments="")); read as a header, the first row of data would be lost`,
				c.path, len(head))
		}
		c.cols = make([]string, len(head))
		for j, h := range head {
			c.cols[j] = strings.TrimSpace(h)
		}
	} else if len(head) != len(c.cols) {
		f.Close()
		return fmt.Errorf("%s: the header has %d fields, but had %d when opened (was the file changed?)", c.path, len(head), len(c.cols))
	}
	c.f, c.r, c.pos = f, r, 0
	return nil
}

// readErr wraps an error of the CSV reader with the file's name (and, for a line too long, a hint).
func (c *CSVFile) readErr(err error) error {
	if errors.Is(err, ErrLineTooLong) {
		return fmt.Errorf("%s: %w (rows of at most %d numbers are supported: is this a CSV matrix?)", c.path, err, MaxCols)
	}
	return fmt.Errorf("%s: %w", c.path, err)
}

// numericHeader reports whether every field of a header row is a number and the row is not a list of
// column numbers 0…D−1 or 1…D (pandas' default names).
func numericHeader(head []string) bool {
	index0, index1 := true, true
	for j, h := range head {
		h = strings.TrimSpace(h)
		if _, err := strconv.ParseFloat(h, 64); err != nil {
			return false
		}
		index0 = index0 && h == strconv.Itoa(j)
		index1 = index1 && h == strconv.Itoa(j+1)
	}
	return !index0 && !index1
}

// stop closes the file of the current pass, if any.
func (c *CSVFile) stop() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f, c.r = nil, nil
	return err
}

// parse parses the record just read into row (len(c.cols) values), naming the line and column of a
// bad field.
func (c *CSVFile) parse(rec []string, row []float64) error {
	if len(rec) != len(c.cols) {
		line, _ := c.r.FieldPos(0)
		return fmt.Errorf("%s: line %d has %d fields, the header has %d", c.path, line, len(rec), len(c.cols))
	}
	for j, s := range rec {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err == nil {
			row[j] = v
			continue
		}
		line, _ := c.r.FieldPos(j)
		col := strconv.Quote(c.cols[j])
		if c.cols[j] == "" {
			col = strconv.Itoa(j + 1)
		}
		why := "is not a number"
		switch {
		case errors.Is(err, strconv.ErrRange):
			why = "is out of the float64 range"
		case strings.TrimSpace(s) == "":
			why = "is not a number (an empty field)"
		}
		return fmt.Errorf("%s: line %d, column %s: %q %s", c.path, line, col, s, why)
	}
	return nil
}
