package fileio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrNotRegular is wrapped by the errors of CheckInput and CheckOutput for a path that exists but is
// not a regular file (a folder, a named pipe, a device, a socket).
var ErrNotRegular = errors.New("not a regular file")

// kind names the type of a file mode for an error message: "a folder", "a named pipe", ….
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}

// CheckInput returns the FileInfo of path (symbolic links followed) if it is a regular file. It only
// stats the path, so it never blocks: opening a named pipe without a writer would wait forever, and
// reading a device such as /dev/zero never ends. Errors: os.Stat's (naming the path), or one wrapping
// ErrNotRegular that names the path and what it is.
func CheckInput(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		why := "levstudy reads its inputs from regular files (it checks their size and may read them twice): save the data to a file"
		if st.IsDir() {
			why = "want a file"
		}
		return nil, fmt.Errorf("%s: %s, %w (%s)", path, kind(st.Mode()), ErrNotRegular, why)
	}
	return st, nil
}

// OpenInput opens path for reading after CheckInput. The caller closes the file.
func OpenInput(path string) (*os.File, fs.FileInfo, error) {
	if _, err := CheckInput(path); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() { // replaced between the Stat and the Open
		f.Close()
		return nil, nil, fmt.Errorf("%s: %s, %w", path, kind(st.Mode()), ErrNotRegular)
	}
	return f, st, nil
}

// CheckOutput checks, before any work is done, that path can be written as a file output and that
// doing so loses nothing: the name is not blank; path, if it exists, is a regular file (or a symbolic
// link to one, which is then written through, keeping the link) and not one of inputs (compared with
// os.SameFile, so another spelling of the same path, a hard link or a symbolic link is caught); and
// its folder exists (a file output's folder is not created: a mistyped folder is an error, not a new
// tree of folders). Inputs that do not exist are ignored. Errors name the path and, for an input, which
// input it is; a non-regular file wraps ErrNotRegular.
func CheckOutput(path string, inputs ...string) error {
	if strings.TrimSpace(path) == "" {
		return fmt.Errorf("%q is a blank file name", path)
	}
	target := path
	if lst, err := os.Lstat(path); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		t, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("%s is a symbolic link to a missing file or folder (%v)", path, err)
		}
		target = t
	}
	st, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		dir := filepath.Dir(target)
		dst, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("the folder %s of %s does not exist (create it first; levstudy creates only the folders given to -out of figures, q1, q2 and run)", dir, path)
		}
		if !dst.IsDir() {
			return fmt.Errorf("%s: %s is not a folder", path, dir)
		}
		return nil
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a folder; give a file name such as %s", path, filepath.Join(path, "scores.csv"))
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s is %s, %w: levstudy replaces its output files, so it refuses to write over a device, a named pipe or a socket",
			path, kind(st.Mode()), ErrNotRegular)
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		ist, err := os.Stat(in)
		if err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("%s is the input %s: refusing to overwrite it", path, in)
		}
	}
	return nil
}

// CheckOutputDir checks a folder output: path, if it exists, is a folder (or a link to one). A
// missing folder is fine: the writers create it with its parents. Errors name the path.
func CheckOutputDir(path string) error {
	if strings.TrimSpace(path) == "" {
		return fmt.Errorf("%q is a blank folder name", path)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s is %s, not a folder (the output of this command is a folder of files)", path, kindOrFile(st.Mode()))
	}
	return nil
}

func kindOrFile(m fs.FileMode) string {
	if m.IsRegular() {
		return "a file"
	}
	return kind(m)
}
