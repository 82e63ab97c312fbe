package fileio

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type testHeader struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// TestFramedRoundTrip checks that WriteFramed's file splits back into its header and payload, and the
// reasons given for files that are not framed.
func TestFramedRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.bin")
	if err := WriteFramed(p, "magic-v1\n", testHeader{"x", 3}, []byte{0, '\n', 255}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	var h testHeader
	payload, why := SplitFramed(b, "magic-v1\n", &h)
	if why != "" || h != (testHeader{"x", 3}) || !bytes.Equal(payload, []byte{0, '\n', 255}) {
		t.Errorf("round trip: %q %+v %q", payload, h, why)
	}
	for _, tc := range []struct{ b, why string }{
		{"other\n{}\n", "bad magic"},
		{"magic-v1\n{}", "no header"},
		{"magic-v1\n{\"n\":\"x\"}\n", "header: json: cannot unmarshal string into Go struct field testHeader.n of type int"},
	} {
		if _, why := SplitFramed([]byte(tc.b), "magic-v1\n", &h); why != tc.why {
			t.Errorf("%q: %q, want %q", tc.b, why, tc.why)
		}
	}
}

// FuzzSplitFramed splits arbitrary bytes: no panic; an accepted file's header re-encodes to JSON and
// its payload is the bytes after the header line.
func FuzzSplitFramed(f *testing.F) {
	f.Add([]byte("magic-v1\n{\"name\":\"x\",\"n\":3}\n\x00\n\xff"))
	f.Add([]byte("magic-v1\n{\"n\":1e400}\n"))
	f.Add([]byte("magic-v1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h testHeader
		payload, why := SplitFramed(b, "magic-v1\n", &h)
		if why != "" {
			return
		}
		if _, err := json.Marshal(h); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(b, payload) || bytes.IndexByte(b[len("magic-v1\n"):], '\n') != len(b)-len(payload)-len("magic-v1\n")-1 {
			t.Fatalf("payload %q is not what follows the header line of %q", payload, b)
		}
	})
}
