package workspace

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/matrixio"
)

// CacheDirEnv names the environment variable that overrides DefaultCacheDir.
const CacheDirEnv = "LEVSTUDY_CACHE"

// DefaultCacheDir returns $LEVSTUDY_CACHE, else the user cache folder's levstudy/ (e.g.
// ~/.cache/levstudy).
func DefaultCacheDir() string {
	if d := os.Getenv(CacheDirEnv); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "levstudy")
	}
	return filepath.Join(".cache", "levstudy")
}

// Cache stores computed artifacts on disk, keyed by what produced them, so that re-runs and notebook
// cells reuse them. An entry holds a float64 matrix with JSON metadata (a basis's leverage scores with
// their rank, an embedding), or a JSON value alone (a Question 2 result, a group of fits). Entries are
// written atomically and carry a sha256 of everything after the checksum field — key, version, shape,
// metadata and payload — so an entry whose bytes changed in any way is reported as ErrCacheCorrupt
// and recomputed by the callers, never trusted; shapes are checked against the payload before
// anything is allocated. A nil *Cache or one with an empty Dir caches nothing.
type Cache struct {
	Dir string
}

// ErrCacheCorrupt is returned for an entry whose checksum or format is wrong.
var ErrCacheCorrupt = errors.New("corrupt cache entry")

const cacheMagic = "levstudy-cache-v2\n"

// cacheHeader is an entry's JSON header line. SHA256 covers the header with SHA256 empty, then the
// payload.
type cacheHeader struct {
	Key     string          `json:"key"`
	Version string          `json:"version"`
	Rows    int             `json:"rows"`
	Cols    int             `json:"cols"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	SHA256  string          `json:"sha256"`
}

// cacheVersion changes when the entry format or a computation changes, so old entries are not reused.
const cacheVersion = "2"

// Path returns the file of the entry kind/key.
func (c *Cache) Path(kind, key string) string {
	h := sha256.Sum256([]byte(cacheVersion + "\x00" + key))
	return filepath.Join(c.Dir, kind, hex.EncodeToString(h[:16])+".bin")
}

func (c *Cache) enabled() bool { return c != nil && c.Dir != "" }

// checksum returns the hex sha256 of h (with its SHA256 field empty) and payload.
func (h cacheHeader) checksum(payload []byte) (string, error) {
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

// read returns the header and payload of entry kind/key, ok = false when there is none (or the file
// is another key's, after a hash collision, or an older version's).
func (c *Cache) read(kind, key string) (h cacheHeader, payload []byte, ok bool, err error) {
	if !c.enabled() {
		return h, nil, false, nil
	}
	path := c.Path(kind, key)
	corrupt := func(why string) error { return fmt.Errorf("%s: %w: %s", path, ErrCacheCorrupt, why) }
	if _, err := fileio.CheckInput(path); errors.Is(err, fileio.ErrNotRegular) {
		return h, nil, false, corrupt("not a regular file")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil, false, nil
	}
	if err != nil {
		return h, nil, false, err
	}
	payload, why := fileio.SplitFramed(b, cacheMagic, &h)
	if why == "bad magic" && bytes.HasPrefix(b, []byte("levstudy-cache-v")) {
		return h, nil, false, nil // an older format: not this entry
	}
	if why != "" {
		return h, nil, false, corrupt(why)
	}
	if h.Key != key || h.Version != cacheVersion {
		return h, nil, false, nil
	}
	if want, err := h.checksum(payload); err != nil || want != h.SHA256 {
		return h, nil, false, corrupt("sha256 mismatch")
	}
	return h, payload, true, nil
}

// LoadMatrix returns the matrix of entry kind/key and decodes its metadata into meta (if not nil);
// ok is false when there is no such entry. A damaged entry is an error wrapping ErrCacheCorrupt.
func (c *Cache) LoadMatrix(kind, key string, meta any) (m *matrixio.Matrix, ok bool, err error) {
	h, payload, ok, err := c.read(kind, key)
	if !ok || err != nil {
		return nil, false, err
	}
	path := c.Path(kind, key)
	if h.Rows < 0 || h.Cols < 0 || (h.Cols > 0 && h.Rows > len(payload)/8/h.Cols) || len(payload) != 8*h.Rows*h.Cols {
		return nil, false, fmt.Errorf("%s: %w: %d payload bytes for %d×%d", path, ErrCacheCorrupt, len(payload), h.Rows, h.Cols)
	}
	m = matrixio.NewMatrix(h.Rows, h.Cols)
	for i := range m.Data {
		m.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
	}
	if meta != nil && len(h.Meta) > 0 {
		if err := json.Unmarshal(h.Meta, meta); err != nil {
			return nil, false, fmt.Errorf("%s: %w: metadata: %v", path, ErrCacheCorrupt, err)
		}
	}
	return m, true, nil
}

// SaveMatrix stores m with its metadata meta (JSON; nil for none) as entry kind/key.
func (c *Cache) SaveMatrix(kind, key string, m *matrixio.Matrix, meta any) error {
	if !c.enabled() {
		return nil
	}
	payload := make([]byte, 8*len(m.Data))
	for i, v := range m.Data {
		binary.LittleEndian.PutUint64(payload[8*i:], math.Float64bits(v))
	}
	return c.write(kind, key, m.Rows, m.Cols, meta, payload)
}

// LoadValue decodes the JSON value of entry kind/key into v; ok is false when there is no such entry.
// A damaged entry is an error wrapping ErrCacheCorrupt.
func (c *Cache) LoadValue(kind, key string, v any) (ok bool, err error) {
	h, payload, ok, err := c.read(kind, key)
	if !ok || err != nil {
		return false, err
	}
	if len(payload) != 0 || h.Rows != 0 || h.Cols != 0 {
		return false, fmt.Errorf("%s: %w: a value entry with a %d×%d payload", c.Path(kind, key), ErrCacheCorrupt, h.Rows, h.Cols)
	}
	if err := json.Unmarshal(h.Meta, v); err != nil {
		return false, fmt.Errorf("%s: %w: value: %v", c.Path(kind, key), ErrCacheCorrupt, err)
	}
	return true, nil
}

// SaveValue stores v (JSON) as entry kind/key.
func (c *Cache) SaveValue(kind, key string, v any) error {
	if !c.enabled() {
		return nil
	}
	return c.write(kind, key, 0, 0, v, nil)
}

func (c *Cache) write(kind, key string, rows, cols int, meta any, payload []byte) error {
	h := cacheHeader{Key: key, Version: cacheVersion, Rows: rows, Cols: cols}
	if meta != nil {
		mb, err := json.Marshal(meta)
		if err != nil {
			return fmt.Errorf("cache %s: %w", kind, err)
		}
		h.Meta = mb
	}
	var err error
	if h.SHA256, err = h.checksum(payload); err != nil {
		return err
	}
	return fileio.WriteFramed(c.Path(kind, key), cacheMagic, h, payload)
}

// KeyHash returns a short hex digest (96 bits of sha256) of key, for file names and cache keys built
// from long inputs (a selection of rows).
func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:12])
}
