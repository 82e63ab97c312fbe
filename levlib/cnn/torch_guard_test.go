package cnn

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/nlpodyssey/gopickle/pickle"
)

// The .pth files in testdata were written by PyTorch 1.13 (Debian's python3-torch):
//
//	sd = OrderedDict([('w', torch.arange(4, dtype=torch.float32)), ('b', torch.tensor([0.5]))])
//	torch.save(sd, 'tiny.pth'); torch.save(sd, 'tiny_legacy.pth', _use_new_zipfile_serialization=False)

// withDataPkl returns testdata/tiny.pth with its data.pkl replaced by pkl (and, if not nil, its
// storage record data/0 by rec0).
func withDataPkl(t testing.TB, pkl, rec0 []byte) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tiny.pth"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(f.Name, "data.pkl"):
			w.Write(pkl)
		case strings.HasSuffix(f.Name, "data/0") && rec0 != nil:
			w.Write(rec0)
		default:
			r, _ := f.Open()
			io.Copy(w, r)
			r.Close()
		}
	}
	zw.Close()
	return out.Bytes()
}

// storagePickle is a protocol-2 pickle whose value is one FloatStorage of n elements in record "0".
func storagePickle(n int32) []byte {
	str := func(s string) []byte {
		return append(binary.LittleEndian.AppendUint32([]byte{'X'}, uint32(len(s))), s...)
	}
	var b []byte
	b = append(b, 0x80, 2, '(')
	b = append(b, str("storage")...)
	b = append(b, "ctorch\nFloatStorage\n"...)
	b = append(b, str("0")...)
	b = append(b, str("cpu")...)
	b = binary.LittleEndian.AppendUint32(append(b, 'J'), uint32(n))
	return append(b, 't', 'Q', '.')
}

// TestTorchGuard checks that LoadTorch refuses at once, naming the file and the fault, every .pth that
// would make gopickle v0.2.0 loop forever (an empty file, zero blocks), read forever (a device, a named
// pipe) or allocate what the file announces (a pickle length or a storage size beyond the file), and
// still reads a real torch.save file up to the state_dict's check.
func TestTorchGuard(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.pth")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	huge := append([]byte{0x80, 4, 0x8e}, binary.LittleEndian.AppendUint64(nil, 1<<36)...)
	for _, tc := range []struct{ name, path, want string }{
		{"empty", write("empty.pth", nil), "empty.pth: bad weights file: empty file"},
		{"zeros", write("zeros.pth", make([]byte, 1024)), `zeros.pth: bad weights file: not a PyTorch .pth file (not the zip archive torch.save writes; it starts with "\x00\x00`},
		{"random", write("random.pth", random), "random.pth: bad weights file: not a PyTorch .pth file"},
		{"short", write("short.pth", []byte("PK\x03\x04")), "short.pth: bad weights file: 4 bytes, too small"},
		{"named pipe", fifo, "fifo.pth: a named pipe, not a regular file"},
		{"device", "/dev/zero", "/dev/zero: a character device, not a regular file"},
		{"folder", dir, "a folder, not a regular file"},
		{"legacy format", filepath.Join("testdata", "tiny_legacy.pth"), "a .pth file in PyTorch's legacy format (before 1.6), which levstudy does not read: re-save it"},
		{"zip without data.pkl", write("nopkl.pth", zipOf(t, "x/version", []byte("3\n"))), "no data.pkl in the zip archive"},
		{"torchscript", write("ts.pth", zipOf(t, "x/constants.pkl", []byte("\x80\x02)."))), "a TorchScript archive"},
		{"truncated zip", write("trunc.pth", mustRead(t, "tiny.pth")[:700]), "not a readable zip archive"},
		{"pickle length beyond the file", write("bytes8.pth", withDataPkl(t, huge, nil)), "data.pkl: malformed pickle: opcode 0x8e at byte 2: announces 68719476736 bytes"},
		{"storage beyond its record", write("storage.pth", withDataPkl(t, storagePickle(1<<31-1), nil)), `data.pkl: storage "0" announces 2147483647 elements of 4 bytes, its record has 16 bytes`},
		{"negative storage", write("neg.pth", withDataPkl(t, storagePickle(-4), nil)), `storage "0" announces -4 elements`},
		{"valid zip, not MnistConvNet", filepath.Join("testdata", "tiny.pth"), `tiny.pth: bad weights file: no entry "net.1.weight" (not an MnistConvNet state_dict?)`},
		{"storage, not a state_dict", write("st.pth", withDataPkl(t, storagePickle(4), nil)), "holds a *pytorch.FloatStorage, want a state_dict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := LoadTorch(tc.path); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want it to contain %q", err, tc.want)
				}
				if !errors.Is(err, ErrBadWeightsFile) && !errors.Is(err, fileio.ErrNotRegular) {
					t.Errorf("%v wraps neither ErrBadWeightsFile nor ErrNotRegular", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("LoadTorch did not return (the goroutine is left spinning)")
			}
		})
	}
}

func mustRead(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zipOf returns a zip archive with one stored record, padded with a comment past minTorchBytes.
func zipOf(t testing.TB, name string, content []byte) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	zw.SetComment(strings.Repeat(" ", 64))
	zw.Close()
	return out.Bytes()
}

// TestScanPickle checks the opcode walk on the pickles PyTorch writes and on lengths beyond the end.
func TestScanPickle(t *testing.T) {
	zr, _ := zip.NewReader(bytes.NewReader(mustRead(t, "tiny.pth")), int64(len(mustRead(t, "tiny.pth"))))
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "data.pkl") {
			r, _ := f.Open()
			b, _ := io.ReadAll(r)
			if err := scanPickle(b); err != nil {
				t.Errorf("torch.save's data.pkl: %v", err)
			}
		}
	}
	for _, tc := range []struct {
		pkl  []byte
		want string
	}{
		{[]byte{0x80, 2, 'N', '.'}, ""},
		{[]byte{0x80, 2, 'N'}, "no STOP opcode"},
		{[]byte{'X', 0xff, 0xff, 0xff, 0xff, '.'}, "opcode 0x58 at byte 0: needs 4294967295 bytes, 1 left"},
		{[]byte{0x95, 0, 0, 0, 0, 0, 0, 0, 1}, "opcode 0x95 at byte 0: announces 72057594037927936 bytes, 0 left"},
		{[]byte("cmodule"), "line without end"},
		{[]byte{0xff}, "unknown opcode"},
		{[]byte{'K'}, "truncated"},
	} {
		err := scanPickle(tc.pkl)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want %q", tc.pkl, err, tc.want)
		}
	}
}

// FuzzLoadTorch loads arbitrary bytes as a .pth file: no panic escapes, an error wraps
// ErrBadWeightsFile, and every input returns within 10 s (a loop inside gopickle would otherwise hang
// the fuzzer, so a watchdog fails the input instead).
func FuzzLoadTorch(f *testing.F) {
	f.Add(mustRead(f, "tiny.pth"))
	f.Add(mustRead(f, "tiny_legacy.pth"))
	f.Add(withDataPkl(f, storagePickle(4), nil))
	f.Add(withDataPkl(f, storagePickle(1<<30), nil))
	f.Add(make([]byte, 1024))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "x.pth")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := LoadTorch(p); done <- err }()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, ErrBadWeightsFile) {
				t.Errorf("error %v does not wrap ErrBadWeightsFile", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("LoadTorch of %d bytes did not return within 10 s", len(b))
		}
	})
}

// FuzzScanPickle walks arbitrary bytes as pickle opcodes: no panic, and a pickle it accepts runs
// through gopickle's unpickler (storages as stand-ins) within 10 s, so within memory: every length
// the unpickler allocates was checked against the bytes.
func FuzzScanPickle(f *testing.F) {
	f.Add(storagePickle(4))
	f.Add([]byte{0x80, 4, 0x95, 3, 0, 0, 0, 0, 0, 0, 0, 'N', '.', '.'})
	f.Add([]byte("(lp0\nI1\naI2\na."))
	f.Add([]byte{0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 1, '.'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if scanPickle(b) != nil {
			return
		}
		done := make(chan bool, 1)
		go func() {
			defer func() { recover(); done <- true }() // gopickle's own panics are LoadTorch's to recover
			u := pickle.NewUnpickler(bytes.NewReader(b))
			u.PersistentLoad = func(any) (any, error) { return nil, nil }
			u.Load()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("unpickling %d accepted bytes did not return within 10 s", len(b))
		}
	})
}
