package fileio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func TestCheckInput(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "x.npy")
	writeFile(t, reg, "abc")
	fifo := filepath.Join(dir, "fifo")
	mkfifo(t, fifo)
	link := filepath.Join(dir, "link")
	os.Symlink(reg, link)
	if st, err := CheckInput(reg); err != nil || st.Size() != 3 {
		t.Errorf("regular file: %v %v", st, err)
	}
	if st, err := CheckInput(link); err != nil || st.Size() != 3 {
		t.Errorf("link to a regular file: %v %v", st, err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, fifo + ": a named pipe, not a regular file"},
		{"/dev/zero", "/dev/zero: a character device, not a regular file"},
		{dir, dir + ": a folder, not a regular file (want a file)"},
		{filepath.Join(dir, "none"), "no such file or directory"},
	} {
		start := time.Now()
		_, err := CheckInput(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckInput(%s) = %v, want %q", tc.path, err, tc.want)
		}
		if tc.path != filepath.Join(dir, "none") && !errors.Is(err, ErrNotRegular) {
			t.Errorf("CheckInput(%s): %v does not wrap ErrNotRegular", tc.path, err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("CheckInput(%s) took %s", tc.path, el)
		}
	}
	if _, _, err := OpenInput(fifo); err == nil {
		t.Error("OpenInput opened a named pipe")
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.npy")
	writeFile(t, in, "input")
	other := filepath.Join(dir, "other.csv")
	writeFile(t, other, "old")
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	hard := filepath.Join(dir, "hard.npy")
	os.Link(in, hard)
	linkIn := filepath.Join(dir, "link_in.npy")
	os.Symlink("in.npy", linkIn)
	linkOther := filepath.Join(dir, "link_other.csv")
	os.Symlink("other.csv", linkOther)
	dangling := filepath.Join(dir, "dangling.csv")
	os.Symlink("nowhere/x.csv", dangling)
	fifo := filepath.Join(dir, "fifo")
	mkfifo(t, fifo)
	for _, tc := range []struct{ name, out, want string }{
		{"new file", filepath.Join(dir, "new.csv"), ""},
		{"existing file", other, ""},
		{"link to a regular file", linkOther, ""},
		{"blank", " ", `" " is a blank file name`},
		{"empty", "", `"" is a blank file name`},
		{"folder", filepath.Join(dir, "sub"), "sub is a folder; give a file name such as " + filepath.Join(dir, "sub", "scores.csv")},
		{"named pipe", fifo, "fifo is a named pipe, not a regular file: levstudy replaces its output files"},
		{"device", "/dev/null", "/dev/null is a character device, not a regular file"},
		{"the input", in, in + " is the input " + in + ": refusing to overwrite it"},
		{"the input by another path", filepath.Join(dir, "sub", "..", ".", "in.npy"), "is the input " + in},
		{"a hard link to the input", hard, "hard.npy is the input " + in},
		{"a symbolic link to the input", linkIn, "link_in.npy is the input " + in},
		{"dangling link", dangling, "dangling.csv is a symbolic link to a missing file"},
		{"missing folder", filepath.Join(dir, "no", "such", "x.csv"), "the folder " + filepath.Join(dir, "no", "such") + " of " + filepath.Join(dir, "no", "such", "x.csv") + " does not exist"},
		{"folder is a file", filepath.Join(other, "x.csv"), "other.csv is not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckOutput(tc.out, in, filepath.Join(dir, "missing-input"))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if readFile(t, in) != "input" {
		t.Error("the input changed")
	}
	if err := CheckOutputDir(other); err == nil || !strings.Contains(err.Error(), "other.csv is a file, not a folder") {
		t.Errorf("CheckOutputDir(file) = %v", err)
	}
	if err := CheckOutputDir(fifo); err == nil || !strings.Contains(err.Error(), "is a named pipe, not a folder") {
		t.Errorf("CheckOutputDir(fifo) = %v", err)
	}
	for _, ok := range []string{dir, filepath.Join(dir, "new", "folder")} {
		if err := CheckOutputDir(ok); err != nil {
			t.Errorf("CheckOutputDir(%s) = %v", ok, err)
		}
	}
}

// TestWriteAtomicRefusesSpecialFiles checks the safety net inside WriteAtomic: a named pipe or a
// folder at the path is left alone, and a symbolic link is written through.
func TestWriteAtomicRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	mkfifo(t, fifo)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	for _, p := range []string{fifo, sub} {
		err := WriteFileAtomic(p, []byte("x"))
		if err == nil || !errors.Is(err, ErrNotRegular) {
			t.Errorf("WriteFileAtomic(%s) = %v, want ErrNotRegular", p, err)
		}
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe became %v (%v)", st.Mode(), err)
	}
	target := filepath.Join(dir, "target.csv")
	writeFile(t, target, "old")
	link := filepath.Join(dir, "link.csv")
	os.Symlink("target.csv", link)
	if err := WriteFileAtomic(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}
	if got := readFile(t, target); got != "new" {
		t.Errorf("target holds %q, want new", got)
	}
	if left := temps(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// temps lists the temporary and backup files in dir.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if tmpName.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	pid := cmd.Process.Pid
	if alive(pid) {
		t.Skipf("pid %d reused at once", pid)
	}
	return pid
}

// TestSweepStaleTemporaries checks that a write removes the temporary files a killed process left in
// the folder (its pid no longer runs, or the old naming and older than a day) and keeps those of live
// processes.
func TestSweepStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	dead := fmt.Sprintf(".fig.png.tmp-%d-123", deadPID(t))
	deadBak := fmt.Sprintf(".x.csv.json.bak-%d-9", deadPID(t))
	live := fmt.Sprintf(".fig.png.tmp-%d-456", os.Getppid())
	oldStyle, newStyle := ".fig.svg.tmp3502666893", ".fig.svg.tmp77"
	for _, n := range []string{dead, deadBak, live, oldStyle, newStyle, "keep.tmp-1-2"} {
		writeFile(t, filepath.Join(dir, n), "partial")
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, oldStyle), old, old)
	if err := WriteFileAtomic(filepath.Join(dir, "other.csv"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	left := strings.Join(temps(t, dir), " ")
	if strings.Contains(left, dead) || strings.Contains(left, deadBak) || strings.Contains(left, oldStyle) {
		t.Errorf("stale temporaries kept: %s", left)
	}
	if !strings.Contains(left, live) || !strings.Contains(left, newStyle) {
		t.Errorf("temporaries of a live process or too recent to tell were removed: %s", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.tmp-1-2")); err != nil {
		t.Errorf("a user's file that is not a hidden temporary was removed: %v", err)
	}
}

// TestWriteAtomicGroup checks that a group is replaced together: when the write of one file fails
// nothing changes, and when a rename fails halfway the files already renamed get their old content
// back (the description, the last file, too).
func TestWriteAtomicGroup(t *testing.T) {
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.csv.json")
	writeFile(t, out, "old scores")
	writeFile(t, sum, "old summary")
	files := func(fail bool) []AtomicFile {
		return []AtomicFile{
			{out, func(w io.Writer) error { _, err := io.WriteString(w, "new scores"); return err }},
			{sum, func(w io.Writer) error {
				if fail {
					return errors.New("json: unsupported value: NaN")
				}
				_, err := io.WriteString(w, "new summary")
				return err
			}},
		}
	}
	if err := WriteAtomicGroup(files(true)...); err == nil || !strings.Contains(err.Error(), "writing "+sum+": json: unsupported value: NaN") {
		t.Errorf("failing write: %v", err)
	}
	if readFile(t, out) != "old scores" || readFile(t, sum) != "old summary" {
		t.Error("a failed write changed the group")
	}
	// A rename that fails after the first one.
	calls := 0
	rename = func(a, b string) error {
		if strings.Contains(a, ".tmp-") {
			calls++
			if calls == 2 {
				return &os.LinkError{Op: "rename", Old: a, New: b, Err: syscall.ENOSPC}
			}
		}
		return os.Rename(a, b)
	}
	err := WriteAtomicGroup(files(false)...)
	rename = os.Rename
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("failing rename: %v", err)
	}
	if got1, got2 := readFile(t, out), readFile(t, sum); got1 != "old scores" || got2 != "old summary" {
		t.Errorf("after a failed rename: %q, %q; want the old pair", got1, got2)
	}
	// A new pair where none existed, failing: no half pair left.
	out2 := filepath.Join(dir, "t.csv")
	calls = 0
	rename = func(a, b string) error {
		if strings.Contains(a, ".tmp-") {
			if calls++; calls == 2 {
				return syscall.EIO
			}
		}
		return os.Rename(a, b)
	}
	err = WriteAtomicGroup(AtomicFile{out2, files(false)[0].Write}, AtomicFile{out2 + ".json", files(false)[1].Write})
	rename = os.Rename
	if err == nil {
		t.Error("no error")
	}
	if _, err := os.Stat(out2); err == nil {
		t.Error("half a new pair was left")
	}
	// Success.
	if err := WriteAtomicGroup(files(false)...); err != nil {
		t.Fatal(err)
	}
	if readFile(t, out) != "new scores" || readFile(t, sum) != "new summary" {
		t.Error("the group was not written")
	}
	if left := temps(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestAbortWrites runs a write that blocks in its writer in a child process, which then calls
// AbortWrites and exits: no temporary file and no output may be left.
func TestAbortWrites(t *testing.T) {
	if dir := os.Getenv("FILEIO_ABORT_DIR"); dir != "" {
		ready := make(chan bool)
		go WriteAtomic(filepath.Join(dir, "out.csv"), func(w io.Writer) error {
			io.WriteString(w, "partial")
			close(ready)
			select {}
		})
		<-ready
		AbortWrites()
		os.Exit(3)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestAbortWrites$")
	cmd.Env = append(os.Environ(), "FILEIO_ABORT_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("left after the abort: %v", ents)
	}
}
