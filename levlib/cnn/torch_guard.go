package cnn

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	pathpkg "path"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// A .pth file is checked by CheckTorchFile and guardTorch before gopickle sees it: gopickle v0.2.0's
// legacy loader spins forever on an empty file or one that starts with zero blocks (a `break` inside a
// `switch` that never leaves its loop), and its unpickler allocates whatever length an opcode or a
// storage announces before reading it, so a 100-byte file could ask for 100 GB and crash the process.

// Size bounds of a .pth file: MnistConvNet's state_dict is 2.6 MB; a zip archive with one entry takes
// over 100 bytes.
const (
	minTorchBytes = 64
	maxTorchBytes = 256 << 20
	// maxPickleBytes bounds data.pkl, the pickle of a state_dict (a few KB).
	maxPickleBytes = 16 << 20
)

// zipMagic starts a zip archive: what torch.save writes since PyTorch 1.6.
const zipMagic = "PK\x03\x04"

// legacyMagic starts a .pth file of the legacy format (PyTorch < 1.6): pickle protocol 2 and the
// LONG1 0x1950a86a20f9469cfc6c.
const legacyMagic = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

// CheckTorchFile checks cheaply that path can be a PyTorch .pth file of MnistConvNet: a regular file of
// 64 bytes to 256 MiB that starts as a zip archive. It reads at most the first 16 bytes. Errors name the
// file and wrap ErrBadWeightsFile (or fileio.ErrNotRegular, or os.Stat's error).
func CheckTorchFile(path string) (fs.FileInfo, error) {
	st, err := fileio.CheckInput(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrBadWeightsFile, fmt.Sprintf(format, args...))
	}
	switch {
	case st.Size() == 0:
		return nil, bad("empty file")
	case st.Size() < minTorchBytes:
		return nil, bad("%d bytes, too small for a PyTorch .pth file", st.Size())
	case st.Size() > maxTorchBytes:
		return nil, bad("%d bytes, larger than the %d MiB accepted (MnistConvNet's state_dict takes 2.6 MB)", st.Size(), maxTorchBytes>>20)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(zipMagic)):
		return st, nil
	case bytes.HasPrefix(head, []byte(legacyMagic)):
		return nil, bad("a .pth file in PyTorch's legacy format (before 1.6), which levstudy does not read: re-save it with a current PyTorch, torch.save(torch.load(path), path)")
	}
	return nil, bad("not a PyTorch .pth file (not the zip archive torch.save writes; it starts with %q)", head)
}

// guardTorch checks that a zip .pth file (after CheckTorchFile) is one gopickle can read without
// unbounded work: no TorchScript archive, a data.pkl of at most 16 MiB whose opcodes announce no
// length beyond its end (scanPickle), and storages whose announced element counts fit in their
// records. It runs the pickle once with stand-ins for the storages, so nothing large is allocated.
func guardTorch(path string, size int64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrBadWeightsFile, fmt.Sprintf(format, args...))
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return bad("not a readable zip archive (%v)", err)
	}
	records := map[string]*zip.File{} // by base name, as gopickle looks them up
	var total uint64
	for _, zf := range zr.File {
		_, name := pathpkg.Split(zf.Name)
		records[name] = zf
		total += zf.UncompressedSize64
	}
	if total > 4*maxTorchBytes {
		return bad("its records unpack to %d bytes (at most %d accepted)", total, 4*maxTorchBytes)
	}
	if _, ok := records["constants.pkl"]; ok {
		return bad("a TorchScript archive (torch.jit.save), not a state_dict saved with torch.save")
	}
	pkl, ok := records["data.pkl"]
	if !ok {
		return bad("no data.pkl in the zip archive (not saved with torch.save?)")
	}
	if pkl.UncompressedSize64 > maxPickleBytes {
		return bad("data.pkl has %d bytes, at most %d accepted", pkl.UncompressedSize64, maxPickleBytes)
	}
	rc, err := pkl.Open()
	if err != nil {
		return bad("data.pkl: %v", err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxPickleBytes+1))
	rc.Close()
	if err != nil {
		return bad("data.pkl: %v", err)
	}
	if len(data) > maxPickleBytes {
		return bad("data.pkl unpacks to more than %d bytes", maxPickleBytes)
	}
	if err := scanPickle(data); err != nil {
		return bad("data.pkl: %v", err)
	}
	// Run the pickle with stand-ins: storages record their announced size instead of allocating it.
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = func(module, name string) (any, error) {
		full := module + "." + name
		if elem, ok := storageElemBytes[full]; ok {
			return storageStub{name: full, elem: elem}, nil
		}
		if full == "torch._utils._rebuild_tensor_v2" {
			return callStub{}, nil
		}
		return types.NewGenericClass(module, name), nil
	}
	u.PersistentLoad = func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
		}
		class, ok1 := t.Get(1).(storageStub)
		key, ok2 := t.Get(2).(string)
		n, ok3 := t.Get(4).(int)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("persistent id %v is not a storage tuple", id)
		}
		rec, ok := records[key]
		if !ok {
			return nil, fmt.Errorf("storage %q has no record in the archive", key)
		}
		if n < 0 || uint64(n) > rec.UncompressedSize64/uint64(class.elem) {
			return nil, fmt.Errorf("storage %q announces %d elements of %d bytes, its record has %d bytes", key, n, class.elem, rec.UncompressedSize64)
		}
		return nil, nil
	}
	if _, err := u.Load(); err != nil {
		return bad("data.pkl: %v", err)
	}
	return nil
}

// storageElemBytes are the element sizes of the storage classes gopickle reads.
var storageElemBytes = map[string]int{
	"torch.HalfStorage": 2, "torch.FloatStorage": 4, "torch.DoubleStorage": 8, "torch.CharStorage": 1,
	"torch.ShortStorage": 2, "torch.IntStorage": 4, "torch.LongStorage": 8, "torch.ByteStorage": 1,
	"torch.BoolStorage": 1, "torch.BFloat16Storage": 2,
}

type storageStub struct {
	name string
	elem int
}

type callStub struct{}

func (callStub) Call(...any) (any, error) { return nil, nil }

// errPickle is wrapped by scanPickle's errors.
var errPickle = errors.New("malformed pickle")

// scanPickle walks the opcodes of a pickle (protocols 0 to 5) without running them and checks that
// every argument lies within b: the lengths of strings, bytes and frames, which an unpickler allocates
// before reading, are at most the bytes left. It stops at STOP; bytes after it are ignored.
func scanPickle(b []byte) error {
	for i := 0; i < len(b); {
		op, at := b[i], i
		i++
		left := len(b) - i
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: opcode %#x at byte %d: %s", errPickle, op, at, fmt.Sprintf(format, args...))
		}
		need := func(n uint64) error {
			if n > uint64(left) {
				return fail("needs %d bytes, %d left", n, left)
			}
			i += int(n)
			return nil
		}
		var err error
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// no argument
		case 'K', 'U', 'C', 0x8c, 'h', 'q', 0x80, 0x82, 0x8a: // one-byte argument, or one-byte length
			if left < 1 {
				return fail("truncated")
			}
			n := uint64(b[i])
			i++
			left--
			if op == 'U' || op == 'C' || op == 0x8c || op == 0x8a {
				err = need(n)
			}
		case 'M', 0x83: // two bytes
			err = need(2)
		case 'J', 'j', 'r', 0x84: // four bytes
			err = need(4)
		case 'G': // eight bytes
			err = need(8)
		case 'T', 'X', 'B', 0x8b: // four-byte length
			if left < 4 {
				return fail("truncated")
			}
			n := uint64(binary.LittleEndian.Uint32(b[i:]))
			i += 4
			left -= 4
			err = need(n)
		case 0x8d, 0x8e, 0x96, 0x95: // eight-byte length (FRAME: the frame's size)
			if left < 8 {
				return fail("truncated")
			}
			n := binary.LittleEndian.Uint64(b[i:])
			i += 8
			left -= 8
			if n > uint64(left) {
				return fail("announces %d bytes, %d left", n, left)
			}
			if op != 0x95 { // a frame's content is scanned as opcodes
				i += int(n)
			}
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p': // one line
			err = skipLine(b, &i, fail)
		case 'c', 'i': // two lines
			if err = skipLine(b, &i, fail); err == nil {
				err = skipLine(b, &i, fail)
			}
		default:
			return fail("unknown opcode")
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: no STOP opcode", errPickle)
}

// skipLine moves *i past the next '\n'.
func skipLine(b []byte, i *int, fail func(string, ...any) error) error {
	nl := bytes.IndexByte(b[*i:], '\n')
	if nl < 0 {
		return fail("line without end")
	}
	*i += nl + 1
	return nil
}
