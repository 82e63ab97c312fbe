package cnn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/levstudy/levstudy/internal/fileio"
)

// f32Bundle is the on-disk form of named float32 arrays (weights, training checkpoints): a magic line,
// one JSON header line (names, shapes, sha256, free metadata), then the arrays' little-endian float32
// bytes in order. In version 2 the sha256 covers the header (with its sha256 field empty) and the
// payload, so an edited name, shape or metadata is detected; version 1 files (whose sha256 covers the
// payload alone) are still read.
type f32Bundle struct {
	Names  []string        `json:"names"`
	Shapes [][]int         `json:"shapes"`
	SHA256 string          `json:"sha256"`
	Meta   json.RawMessage `json:"meta,omitempty"`
	arrays [][]float32
}

const (
	f32Magic   = "levstudy-f32-v2\n"
	f32MagicV1 = "levstudy-f32-v1\n"
)

// ErrBadWeightsFile is wrapped by errors about a damaged or foreign weights or checkpoint file.
var ErrBadWeightsFile = errors.New("bad weights file")

func writeF32Bundle(path string, names []string, shapes [][]int, arrays [][]float32, meta any) error {
	var payload bytes.Buffer
	var b [4]byte
	for _, a := range arrays {
		for _, v := range a {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			payload.Write(b[:])
		}
	}
	h := f32Bundle{Names: names, Shapes: shapes}
	if meta != nil {
		mb, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		h.Meta = mb
	}
	var err error
	if h.SHA256, err = h.checksum(payload.Bytes()); err != nil {
		return err
	}
	return fileio.WriteFramed(path, f32Magic, h, payload.Bytes())
}

// checksum returns the hex sha256 of h's JSON with SHA256 empty, then payload (version 2).
func (h f32Bundle) checksum(payload []byte) (string, error) {
	h.SHA256 = ""
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	sum := sha256.New()
	sum.Write(hb)
	sum.Write(payload)
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// maxBundleBytes bounds a weights or checkpoint file (a CNN's weights and Adam state take 8 MB).
const maxBundleBytes = 1 << 30

func readF32Bundle(path string, meta any) (*f32Bundle, error) {
	st, err := fileio.CheckInput(path)
	if err != nil {
		return nil, err
	}
	bad := func(why string) error { return fmt.Errorf("%s: %w: %s", path, ErrBadWeightsFile, why) }
	if st.Size() > maxBundleBytes {
		return nil, bad(fmt.Sprintf("%d bytes, larger than any weights file", st.Size()))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseF32Bundle(b, meta, bad)
}

// parseF32Bundle parses the bytes of a weights or checkpoint file; bad wraps the reason of an error.
func parseF32Bundle(b []byte, meta any, bad func(string) error) (*f32Bundle, error) {
	var h f32Bundle
	magic := f32Magic
	if bytes.HasPrefix(b, []byte(f32MagicV1)) {
		magic = f32MagicV1
	}
	payload, why := fileio.SplitFramed(b, magic, &h)
	if why == "bad magic" {
		return nil, bad("not a levstudy weights file")
	} else if why != "" {
		return nil, bad(why)
	}
	want := ""
	if magic == f32MagicV1 {
		sum := sha256.Sum256(payload)
		want = hex.EncodeToString(sum[:])
	} else {
		var err error
		if want, err = h.checksum(payload); err != nil {
			return nil, bad(err.Error())
		}
	}
	if want != h.SHA256 {
		return nil, bad("sha256 mismatch (damaged or partial file)")
	}
	if len(h.Names) != len(h.Shapes) {
		return nil, bad("names and shapes differ in number")
	}
	off := 0
	for i, s := range h.Shapes {
		n, ok := checkedSize(s, (len(payload)-off)/4)
		if !ok {
			return nil, bad(fmt.Sprintf("array %s %v exceeds the payload", h.Names[i], s))
		}
		a := make([]float32, n)
		for j := range a {
			a[j] = math.Float32frombits(binary.LittleEndian.Uint32(payload[off+4*j:]))
		}
		h.arrays = append(h.arrays, a)
		off += 4 * n
	}
	if off != len(payload) {
		return nil, bad(fmt.Sprintf("%d trailing payload bytes", len(payload)-off))
	}
	if meta != nil && len(h.Meta) > 0 {
		if err := json.Unmarshal(h.Meta, meta); err != nil {
			return nil, bad("metadata: " + err.Error())
		}
	}
	return &h, nil
}

// checkedSize returns the number of elements of an array of shape dims if every dimension is ≥ 0 and
// the product is at most limit (so it cannot overflow), else false.
func checkedSize(dims []int, limit int) (int, bool) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > limit/d {
			return 0, false
		}
		n *= d
	}
	return n, n <= limit
}

// weightsFromBundle takes the 8 CNN parameters starting at array off.
func weightsFromBundle(path string, h *f32Bundle, off int) (*Weights, error) {
	w := &Weights{}
	for i, name := range paramNames {
		if off+i >= len(h.arrays) || h.Names[off+i] != name || shapeSize(h.Shapes[off+i]) != shapeSize(paramShapes[i]) {
			return nil, fmt.Errorf("%s: %w: array %d is not %s %v", path, ErrBadWeightsFile, off+i, name, paramShapes[i])
		}
		w.Params[i] = h.arrays[off+i]
	}
	return w, w.validate(path)
}

// SaveWeights writes w (and meta, JSON) to path atomically.
func SaveWeights(path string, w *Weights, meta any) error {
	return writeF32Bundle(path, paramNames, paramShapes, w.Params[:], meta)
}

// LoadWeights reads a file written by SaveWeights, checking its sha256, names and shapes.
func LoadWeights(path string, meta any) (*Weights, error) {
	h, err := readF32Bundle(path, meta)
	if err != nil {
		return nil, err
	}
	return weightsFromBundle(path, h, 0)
}
