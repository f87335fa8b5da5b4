package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Files are the names of every file a gap report may write into its
// directory, whatever its options, for a report of disciplines only: the
// files the report owns there. A writer of a new report file adds its
// name here.
func Files() []string { return GapFiles(nil) }

// GapFiles is Files for reports that may also cover the given services
// (vocabulary codes: each has its map).
func GapFiles(services []string) []string {
	names := []string{"adequacy.csv", "unserved.csv", "member_access.csv", "rejected.csv", "recruitment.csv", "gaps.geojson", "index.html"}
	for _, d := range adequacy.Disciplines {
		names = append(names, MapFile(d.String()))
	}
	for _, s := range services {
		if n := MapFile(s); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// ErrUnsafeOutput is wrapped by the errors of an Output that refuses a
// directory: a symbolic link where the report would write, or an input
// file the report would overwrite or remove.
var ErrUnsafeOutput = errors.New("unsafe report directory")

// Output writes a report into a directory without harm to anything else:
//
//   - the directory, and every report file already in it, must not be a
//     symbolic link (the report would write wherever it points);
//   - the files are written into a fresh temporary directory beside it
//     (inside it, when its parent is not writable), then moved into
//     place, so a report that fails half way leaves the previous one
//     whole;
//   - report files of an earlier report that this one does not write
//     (member_access.csv from an earlier --detail run, say) are removed,
//     and nothing else in the directory is touched;
//   - no input may be one of the files the report writes or removes:
//     a member file named rejected.csv in the report directory is refused,
//     not overwritten.
//
// NewOutput checks the directory, Dir is where the writers write, Commit
// moves the files into place and Abort gives up.
type Output struct {
	dir, tmp string
	realDir  string // dir with symbolic links resolved
	created  bool   // dir did not exist: tmp becomes it
	inputs   []input
	files    []string // the files the report owns in dir
	dirs     []string // the folders it owns there, replaced whole
	ended    bool     // Commit ran: it put the report in place or aborted
}

// input is a file the report reads (or writes elsewhere): found by
// identity when it exists, by resolved path in any case.
type input struct {
	name string      // as given, for messages
	real string      // absolute, the directory's symbolic links resolved
	st   os.FileInfo // nil when it does not exist
}

// NewOutput prepares writing a report into dir, whose report files must
// not be any of inputs (paths of files the report reads, or writes
// elsewhere; missing ones are skipped).
func NewOutput(dir string, inputs ...string) (*Output, error) {
	return NewOutputFor(dir, Files(), nil, inputs...)
}

// NewOutputFor is NewOutput for another kind of report, which owns the
// given files and folders in dir (a folder is replaced whole: the HSD
// export's and exception packets' commands use it).
func NewOutputFor(dir string, files, dirs []string, inputs ...string) (*Output, error) {
	if dir == "" {
		return nil, fmt.Errorf("report directory: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("report directory %s: %w", dir, err)
	}
	o := &Output{dir: abs, realDir: realPath(abs), files: files, dirs: dirs}
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		i := input{name: in}
		if a, err := filepath.Abs(in); err == nil {
			i.real = realPath(a)
		}
		i.st, _ = os.Stat(in)
		o.inputs = append(o.inputs, i)
	}
	st, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		o.created = true
	case err != nil:
		return nil, fmt.Errorf("report directory %s: %w", dir, err)
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%w: %s is a symbolic link; give the directory it points to", ErrUnsafeOutput, dir)
	case !st.IsDir():
		return nil, fmt.Errorf("report directory %s: not a directory", dir)
	default:
		for _, name := range append(slices.Clone(o.files), o.dirs...) {
			if err := o.checkTarget(name); err != nil {
				return nil, err
			}
		}
	}
	parent := filepath.Dir(abs)
	if o.created {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("report directory %s: %w", dir, err)
		}
	}
	base := "." + filepath.Base(abs) + ".tmp-"
	if o.tmp, err = os.MkdirTemp(parent, base); err != nil {
		if o.created || !errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("report directory %s: %w", dir, err)
		}
		// The parent is not ours to write: work inside the directory.
		if o.tmp, err = os.MkdirTemp(abs, ".geoaccess-report.tmp-"); err != nil {
			return nil, fmt.Errorf("report directory %s: %w", dir, err)
		}
	}
	return o, nil
}

// realPath resolves the symbolic links of path's directory (path itself
// may not exist yet); path as it is when they cannot be resolved.
func realPath(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(d, filepath.Base(path))
	}
	return filepath.Clean(path)
}

// checkTarget refuses a report file in the directory that is a symbolic
// link, not a regular file, or one of the inputs (the same file, or the
// same path).
func (o *Output) checkTarget(name string) error {
	path := filepath.Join(o.dir, name)
	real := filepath.Join(o.realDir, name)
	st, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("report directory: %w", err)
	}
	isDir := slices.Contains(o.dirs, name)
	for _, in := range o.inputs {
		if in.real == real || (st != nil && in.st != nil && os.SameFile(st, in.st)) ||
			(isDir && strings.HasPrefix(in.real, real+string(filepath.Separator))) {
			return fmt.Errorf("%w: the input %s is the report's %s, which the report would overwrite or remove; move it out of %s",
				ErrUnsafeOutput, in.name, name, o.dir)
		}
	}
	switch {
	case st == nil:
		return nil
	case st.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link; the report would write where it points", ErrUnsafeOutput, path)
	case isDir && !st.IsDir():
		return fmt.Errorf("%w: %s is not a folder", ErrUnsafeOutput, path)
	case !isDir && !st.Mode().IsRegular():
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafeOutput, path)
	}
	return nil
}

// Dir is the directory the report files are written into until Commit.
func (o *Output) Dir() string { return o.tmp }

// Commit puts the written report in place: a new directory appears
// whole; in an existing one each file replaces its namesake and report
// files this report did not write are removed. It checks again that no
// target is a symbolic link or an input. A failed Commit aborts; after
// Commit, Abort does nothing, so that callers may defer it.
func (o *Output) Commit() error {
	o.ended = true
	entries, err := os.ReadDir(o.tmp)
	if err != nil {
		o.abort()
		return fmt.Errorf("report directory: %w", err)
	}
	var written []string
	for _, e := range entries {
		written = append(written, e.Name())
	}
	if o.created {
		if err := os.Chmod(o.tmp, 0o755); err != nil {
			o.abort()
			return fmt.Errorf("report directory: %w", err)
		}
		if err := os.Rename(o.tmp, o.dir); err != nil {
			o.abort()
			return fmt.Errorf("report directory %s: %w", o.dir, err)
		}
		return nil
	}
	stale := slices.DeleteFunc(append(slices.Clone(o.files), o.dirs...), func(n string) bool { return slices.Contains(written, n) })
	for _, name := range append(slices.Clone(written), stale...) {
		if err := o.checkTarget(name); err != nil {
			o.abort()
			return err
		}
	}
	var errs []error
	for _, name := range written {
		target := filepath.Join(o.dir, name)
		aside := ""
		if slices.Contains(o.dirs, name) {
			// A folder is replaced whole: the old one steps aside first,
			// and comes back if the new one cannot take its place.
			aside = filepath.Join(o.tmp, ".old-"+name)
			if err := os.Rename(target, aside); errors.Is(err, fs.ErrNotExist) {
				aside = ""
			} else if err != nil {
				o.abort()
				return fmt.Errorf("report directory %s: %w", o.dir, err)
			}
		}
		if err := os.Rename(filepath.Join(o.tmp, name), target); err != nil {
			if aside != "" {
				os.Rename(aside, target)
			}
			o.abort()
			return fmt.Errorf("report directory %s: %w", o.dir, err)
		}
	}
	for _, name := range stale {
		remove := os.Remove
		if slices.Contains(o.dirs, name) {
			remove = os.RemoveAll
		}
		if err := remove(filepath.Join(o.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(o.tmp); err != nil { // the folders that stepped aside, if any
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("report directory %s: the report is in place, but: %w", o.dir, err)
	}
	return nil
}

// Abort removes the temporary directory and whatever was written in it;
// the report directory is as it was. After Commit it does nothing.
func (o *Output) Abort() {
	if !o.ended {
		o.abort()
	}
}

func (o *Output) abort() {
	if o.tmp != "" && strings.Contains(filepath.Base(o.tmp), ".tmp-") {
		os.RemoveAll(o.tmp)
	}
}
