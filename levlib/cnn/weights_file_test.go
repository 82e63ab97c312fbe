package cnn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bundleBytes returns the bytes writeF32Bundle writes for two small arrays.
func bundleBytes(t testing.TB) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "w.bin")
	if err := writeF32Bundle(p, []string{"a", "b"}, [][]int{{2, 3}, {1}}, [][]float32{{1, 2, 3, 4, 5, 6}, {-0.5}}, map[string]int{"step": 7}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestF32BundleTamper checks that an edit of the header (a shape, a name, the metadata) is a sha256
// mismatch in a version 2 file, that shapes whose product overflows are refused before anything is
// allocated, and that a version 1 file (sha256 of the payload alone) is still read.
func TestF32BundleTamper(t *testing.T) {
	good := bundleBytes(t)
	dir := t.TempDir()
	read := func(b []byte) (*f32Bundle, error) {
		p := filepath.Join(dir, "w.bin")
		os.WriteFile(p, b, 0o644)
		var meta map[string]int
		return readF32Bundle(p, &meta)
	}
	h, err := read(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.arrays) != 2 || h.arrays[0][5] != 6 || h.arrays[1][0] != -0.5 {
		t.Errorf("arrays %v", h.arrays)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"metadata", `"step":7`, `"step":9`, "sha256 mismatch"},
		{"name", `"names":["a"`, `"names":["c"`, "sha256 mismatch"},
		{"shape", `[[2,3],[1]]`, `[[3,2],[1]]`, "sha256 mismatch"},
		{"magic", "levstudy-f32-v2", "levstudy-f32-v9", "not a levstudy weights file"},
	} {
		b := bytes.Replace(good, []byte(tc.old), []byte(tc.new), 1)
		if bytes.Equal(b, good) {
			t.Fatalf("%s: %q not in the file", tc.name, tc.old)
		}
		if _, err := read(b); err == nil || !errors.Is(err, ErrBadWeightsFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s edited: %v, want %q", tc.name, err, tc.want)
		}
	}
	// Version 1, with a shape whose product overflows (2^62·4 ≡ 0 mod 2^64) and a payload checksum.
	v1 := func(shapes string, payload []byte) []byte {
		sum := sha256Hex(payload)
		return append([]byte("levstudy-f32-v1\n{\"names\":[\"a\"],\"shapes\":"+shapes+",\"sha256\":\""+sum+"\"}\n"), payload...)
	}
	payload := binary.LittleEndian.AppendUint32(nil, math.Float32bits(2.5))
	if h, err := read(v1("[[1]]", payload)); err != nil || h.arrays[0][0] != 2.5 {
		t.Errorf("version 1 file: %v %v", h, err)
	}
	for _, shapes := range []string{"[[4611686018427387904,4]]", "[[-1,-1]]", "[[9223372036854775807,2]]", "[[2]]"} {
		if _, err := read(v1(shapes, payload)); err == nil || !strings.Contains(err.Error(), "exceeds the payload") {
			t.Errorf("shape %s: %v", shapes, err)
		}
	}
}

// FuzzReadF32Bundle reads arbitrary bytes as a weights or checkpoint file: no panic; an accepted file
// has one array per name with as many values as its shape.
func FuzzReadF32Bundle(f *testing.F) {
	f.Add(bundleBytes(f))
	f.Add([]byte("levstudy-f32-v1\n{\"names\":[\"a\"],\"shapes\":[[4611686018427387904,4]],\"sha256\":\"\"}\n"))
	f.Add([]byte("levstudy-f32-v2\n{garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseF32Bundle(b, nil, func(why string) error { return errors.New(why) })
		if err != nil {
			return
		}
		if len(h.arrays) != len(h.Names) || len(h.Shapes) != len(h.Names) {
			t.Fatalf("%d arrays for %d names", len(h.arrays), len(h.Names))
		}
		for i, a := range h.arrays {
			if n, ok := checkedSize(h.Shapes[i], len(a)); !ok || n != len(a) {
				t.Fatalf("array %d: %d values for shape %v", i, len(a), h.Shapes[i])
			}
		}
	})
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
