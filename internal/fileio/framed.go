package fileio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// levstudy's binary files (cache entries, weights, checkpoints) are framed the same way: a magic line,
// one JSON header line, then the payload bytes.

// splitFramed parses such a file into header and returns the payload, or a reason why b is not one.
func SplitFramed(b []byte, magic string, header any) ([]byte, string) {
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil, "bad magic"
	}
	b = b[len(magic):]
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return nil, "no header"
	}
	if err := json.Unmarshal(b[:nl], header); err != nil {
		return nil, "header: " + err.Error()
	}
	return b[nl+1:], ""
}

// writeFramed writes magic, header as one JSON line, and payload to path, atomically.
func WriteFramed(path, magic string, header any, payload []byte) error {
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	return WriteAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString(magic)
		bw.Write(hb)
		bw.WriteByte('\n')
		bw.Write(payload)
		return bw.Flush()
	})
}
