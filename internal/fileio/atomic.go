package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Temporary files of atomic writes are named .<base>.tmp-<pid>-<random> in the folder of the file they
// will replace, so that one left by a process that was killed (kill -9, a power cut) is recognized
// and removed by the next write to that folder: see sweep.

// ErrAborted is returned by writes attempted after AbortWrites.
var ErrAborted = errors.New("writes aborted: the program is exiting")

// inflight registers the temporary files of writes in progress, for AbortWrites. Its lock is held
// across every rename, so that an abort never leaves a half-done group of renames.
var inflight = struct {
	sync.Mutex
	tmps    map[string]bool
	aborted bool
}{tmps: map[string]bool{}}

// AbortWrites removes the temporary files of the atomic writes in progress and blocks every later
// rename, for a program about to exit (after a second Ctrl-C): each write then either happened
// completely or left nothing behind. It never returns control of the writes: call it just before
// os.Exit. It waits for a rename (or a WriteAtomicGroup's renames) in progress to finish.
func AbortWrites() {
	inflight.Lock() // never released
	inflight.aborted = true
	for p := range inflight.tmps {
		os.Remove(p)
	}
}

func register(p string) error {
	inflight.Lock()
	defer inflight.Unlock()
	if inflight.aborted {
		return ErrAborted
	}
	inflight.tmps[p] = true
	return nil
}

func unregister(p string) {
	inflight.Lock()
	delete(inflight.tmps, p)
	inflight.Unlock()
}

// tmpName matches the temporary files of this package (pid in group 1) and of its older versions
// (os.CreateTemp's ".<base>.tmp<digits>", no pid).
var tmpName = regexp.MustCompile(`^\..+\.(?:tmp-(\d+)-\d+|tmp\d+|bak-(\d+)-\d+)$`)

// staleAge is how old a temporary file without a live owner must be before sweep removes it when its
// owner cannot be told (the older naming without a pid, or a pid reused by another process).
const staleAge = 24 * time.Hour

var swept sync.Map // folders swept by this process

// rename is os.Rename (a variable so that tests can make a rename fail).
var rename = os.Rename

// sweep removes, once per process and folder, temporary files left in dir by atomic writes of
// processes that no longer run (or, when that cannot be told, older than staleAge). Errors are
// ignored: a leftover file is harmless.
func sweep(dir string) {
	if _, done := swept.LoadOrStore(dir, true); done {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	self := os.Getpid()
	for _, e := range ents {
		m := tmpName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		pidStr := m[1] + m[2]
		stale := false
		if pidStr != "" {
			pid, err := strconv.Atoi(pidStr)
			stale = err == nil && pid != self && !alive(pid)
		}
		if !stale {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleAge {
				stale = pidStr == "" || pidStr != strconv.Itoa(self)
			}
		}
		if stale {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// createTemp creates and registers the temporary file of a write to path (in path's folder).
func createTemp(path, kind string) (*os.File, error) {
	dir := filepath.Dir(path)
	sweep(dir)
	f, err := os.CreateTemp(dir, fmt.Sprintf(".%s.%s-%d-*", filepath.Base(path), kind, os.Getpid()))
	if err != nil {
		return nil, err
	}
	if err := register(f.Name()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// discard removes a temporary file.
func discard(f *os.File) {
	f.Close()
	os.Remove(f.Name())
	unregister(f.Name())
}

// resolveTarget returns the file that a write to path replaces: path itself, or the file a symbolic
// link at path points to (so that the link is kept and its target written). It refuses a target that
// exists and is not a regular file: a rename would replace a device, a named pipe, a socket or (an
// empty) folder.
func resolveTarget(path string) (string, error) {
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		t, err := filepath.EvalSymlinks(path)
		if err != nil {
			return "", fmt.Errorf("writing %s: a symbolic link to a missing file (%v)", path, err)
		}
		path = t
	}
	st, err := os.Lstat(path)
	if err == nil && !st.Mode().IsRegular() {
		return "", fmt.Errorf("writing %s: it is %s, %w: refusing to replace it", path, kind(st.Mode()), ErrNotRegular)
	}
	return path, nil
}

// WriteFileAtomic writes b to path through a temporary file in the same folder and a rename, so that a
// reader (or an interrupted run) sees either the old file or the whole new one, never a part.
func WriteFileAtomic(path string, b []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteAtomic calls write with a temporary file in path's folder (created with its parents if
// missing), syncs it and renames it to path. On any error the temporary file is removed and path is
// untouched. A symbolic link at path is written through (the link stays, its target is replaced); a
// path that is a folder, a device, a named pipe or a socket is refused (ErrNotRegular). Temporary
// files left by a killed process are removed by a later write to the same folder. Errors name the
// path.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	return WriteAtomicGroup(AtomicFile{Path: path, Write: write})
}

// AtomicFile is one file of WriteAtomicGroup: its path and the function that writes its content.
type AtomicFile struct {
	Path  string
	Write func(w io.Writer) error
}

// WriteAtomicGroup writes several files so that they are replaced together or not at all: every
// content is written to a temporary file and synced first (an error there leaves every path
// untouched), then the files are renamed into place in order. If a rename fails, the files already
// renamed get their previous content back (kept as hard links until the end) and the error is
// returned. The last file is taken to describe the others (a summary beside its data): its old version
// is moved away before the first rename, so that even a crash between the renames leaves the new files
// without a description rather than beside the old one. Paths are treated as in WriteAtomic. Errors
// name the path.
func WriteAtomicGroup(files ...AtomicFile) (err error) {
	targets := make([]string, len(files))
	for i, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		if targets[i], err = resolveTarget(f.Path); err != nil {
			return err
		}
	}
	tmps := make([]*os.File, 0, len(files))
	defer func() {
		if err != nil {
			for _, t := range tmps {
				discard(t)
			}
		}
	}()
	for i, f := range files {
		tmp, err := createTemp(targets[i], "tmp")
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		tmps = append(tmps, tmp)
		if err := writeTemp(tmp, f.Write); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	inflight.Lock()
	defer inflight.Unlock()
	if inflight.aborted {
		return ErrAborted
	}
	return renameAll(files, targets, tmps)
}

// writeTemp fills a temporary file, syncs and closes it and makes it readable by all.
func writeTemp(tmp *os.File, write func(io.Writer) error) error {
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Chmod(tmp.Name(), 0o644)
}

// renameAll renames the temporary files into place (inflight's lock held), with the backups that
// undo a partial group. On success the temporary files are unregistered.
func renameAll(files []AtomicFile, targets []string, tmps []*os.File) error {
	if len(files) == 1 { // the common case: one rename, nothing to undo
		if err := rename(tmps[0].Name(), targets[0]); err != nil {
			return fmt.Errorf("writing %s: %w", files[0].Path, err)
		}
		delete(inflight.tmps, tmps[0].Name())
		return nil
	}
	backups := make([]string, len(files)) // "" when the target did not exist
	removeBackups := func() {
		for _, b := range backups {
			if b != "" {
				os.Remove(b)
				delete(inflight.tmps, b)
			}
		}
	}
	for i, t := range targets {
		if _, err := os.Lstat(t); err != nil {
			continue
		}
		b := fmt.Sprintf("%s/.%s.bak-%d-%d", filepath.Dir(t), filepath.Base(t), os.Getpid(), time.Now().UnixNano())
		var err error
		if i == len(targets)-1 {
			err = rename(t, b) // the description is moved away (see WriteAtomicGroup)
		} else {
			err = os.Link(t, b)
		}
		if err != nil {
			restore(targets, backups, -1)
			removeBackups()
			return fmt.Errorf("writing %s: keeping the previous version: %w", files[i].Path, err)
		}
		backups[i] = b
		inflight.tmps[b] = true
	}
	for i := range files {
		if err := rename(tmps[i].Name(), targets[i]); err != nil {
			restore(targets, backups, i)
			removeBackups()
			return fmt.Errorf("writing %s: %w (the other files of the group were left as they were)", files[i].Path, err)
		}
		delete(inflight.tmps, tmps[i].Name())
	}
	removeBackups()
	return nil
}

// restore puts back the previous versions of targets[:done] (removing new files that had none) and of
// the moved-away last target.
func restore(targets, backups []string, done int) {
	last := len(targets) - 1
	for i, t := range targets {
		switch {
		case i < done && backups[i] != "":
			os.Rename(backups[i], t)
		case i < done:
			os.Remove(t)
		case i == last && backups[i] != "":
			os.Rename(backups[i], t)
		}
	}
}

// RemoveIfExists removes path, ignoring a missing file.
func RemoveIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
