package workspace

import (
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

// Cache stores computed artifacts (bases, leverage scores) on disk, keyed by what produced them, so
// that re-runs and notebook cells reuse them. Entries are written atomically and carry a sha256 of
// their payload: a corrupt entry is reported as ErrCacheCorrupt and recomputed by the callers, never
// trusted. A nil *Cache or one with an empty Dir caches nothing.
type Cache struct {
	Dir string
}

// ErrCacheCorrupt is returned for an entry whose checksum or format is wrong.
var ErrCacheCorrupt = errors.New("corrupt cache entry")

const cacheMagic = "levstudy-cache-v1\n"

type cacheHeader struct {
	Key     string          `json:"key"`
	Rows    int             `json:"rows"`
	Cols    int             `json:"cols"`
	SHA256  string          `json:"sha256"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	Version string          `json:"version"`
}

// cacheVersion changes when a computation changes, so old entries are not reused.
const cacheVersion = "1"

// Path returns the file of the entry kind/key.
func (c *Cache) Path(kind, key string) string {
	h := sha256.Sum256([]byte(cacheVersion + "\x00" + key))
	return filepath.Join(c.Dir, kind, hex.EncodeToString(h[:16])+".bin")
}

// Load reads entry kind/key into a matrix and unmarshals its metadata into meta (if not nil). It
// returns (nil, nil) when there is no such entry, and an error wrapping ErrCacheCorrupt when the entry
// is damaged.
func (c *Cache) Load(kind, key string, meta any) (*matrixio.Matrix, error) {
	if c == nil || c.Dir == "" {
		return nil, nil
	}
	path := c.Path(kind, key)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	corrupt := func(why string) error { return fmt.Errorf("%s: %w: %s", path, ErrCacheCorrupt, why) }
	var h cacheHeader
	payload, why := fileio.SplitFramed(b, cacheMagic, &h)
	if why != "" {
		return nil, corrupt(why)
	}
	if h.Key != key || h.Version != cacheVersion {
		return nil, nil // a hash collision or an older version: not this entry
	}
	if h.Rows < 0 || h.Cols < 0 || len(payload) != 8*h.Rows*h.Cols {
		return nil, corrupt(fmt.Sprintf("%d payload bytes for %d×%d", len(payload), h.Rows, h.Cols))
	}
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, corrupt("sha256 mismatch")
	}
	m := matrixio.NewMatrix(h.Rows, h.Cols)
	for i := range m.Data {
		m.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
	}
	if meta != nil && len(h.Meta) > 0 {
		if err := json.Unmarshal(h.Meta, meta); err != nil {
			return nil, corrupt("metadata: " + err.Error())
		}
	}
	return m, nil
}

// Save writes m and meta (JSON-marshalled) as entry kind/key, atomically.
func (c *Cache) Save(kind, key string, m *matrixio.Matrix, meta any) error {
	if c == nil || c.Dir == "" {
		return nil
	}
	payload := make([]byte, 8*len(m.Data))
	for i, v := range m.Data {
		binary.LittleEndian.PutUint64(payload[8*i:], math.Float64bits(v))
	}
	sum := sha256.Sum256(payload)
	h := cacheHeader{Key: key, Rows: m.Rows, Cols: m.Cols, SHA256: hex.EncodeToString(sum[:]), Version: cacheVersion}
	if meta != nil {
		mb, err := json.Marshal(meta)
		if err != nil {
			return err
		}
		h.Meta = mb
	}
	return fileio.WriteFramed(c.Path(kind, key), cacheMagic, h, payload)
}

func KeyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:12])
}
