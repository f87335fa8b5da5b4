package report

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/geoaccess/geoaccess/data/csvsafe"
)

// The filing files (the HSD export, exception requests) are written here,
// in one place: CSV through csvTable (data/csvsafe: no formula left live),
// and the xlsx twins through excelize.

// createOut creates dir/name for writing, refusing to follow a symbolic
// link or to replace anything but a regular file.
func createOut(dir, name string) (*os.File, error) {
	path := filepath.Join(dir, name)
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("write %s: %s exists and is not a regular file (a link or a folder); remove it first", name, path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return f, nil
}

// csvTable writes one CSV file through csvsafe: text cells that could
// start a formula are neutralised, numbers stay numbers. Rows come one at
// a time (row) or, for millions of them, formatted in parallel
// (rowsParallel).
type csvTable struct {
	name string
	f    *os.File
	bw   *bufio.Writer
	cw   *csvsafe.Writer
	rows int
}

func createCSV(dir, name string, header []string) (*csvTable, error) {
	f, err := createOut(dir, name)
	if err != nil {
		return nil, err
	}
	t := &csvTable{name: name, f: f, bw: bufio.NewWriterSize(f, 1<<16)}
	t.cw = csvsafe.NewWriter(t.bw)
	if err := t.cw.WriteText(header...); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return t, nil
}

// row writes one record.
func (t *csvTable) row(cells ...csvsafe.Cell) error {
	t.rows++
	if err := t.cw.Write(cells...); err != nil {
		return fmt.Errorf("write %s: %w", t.name, err)
	}
	return nil
}

// appendTexts appends a record of text cells, as csvsafe writes them.
func appendTexts(b []byte, fields ...string) []byte {
	for i, s := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = csvsafe.AppendText(b, s)
	}
	return append(b, '\n')
}

// rowsParallel writes n rows formatted by format (which appends row i's
// record, made with csvsafe's Append functions, to b) in chunks on every
// processor, in order.
func (t *csvTable) rowsParallel(n int, format func(i int, b []byte) []byte) error {
	if err := t.cw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", t.name, err)
	}
	const chunk = 8192
	parts := make([]chan []byte, (n+chunk-1)/chunk)
	for i := range parts {
		parts[i] = make(chan []byte, 1)
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for k := range parts {
			select {
			case sem <- struct{}{}:
			case <-stop:
				return
			}
			go func() {
				defer func() { <-sem }()
				var b []byte
				for i := k * chunk; i < min((k+1)*chunk, n); i++ {
					b = format(i, b)
				}
				parts[k] <- b
			}()
		}
	}()
	for _, c := range parts {
		if _, err := t.bw.Write(<-c); err != nil {
			return fmt.Errorf("write %s: %w", t.name, err)
		}
	}
	t.rows += n
	return nil
}

// close flushes and closes the file; the first error wins.
func (t *csvTable) close(err error) error {
	if ferr := t.cw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write %s: %w", t.name, ferr)
	}
	if ferr := t.bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write %s: %w", t.name, ferr)
	}
	if cerr := t.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", t.name, cerr)
	}
	return err
}

// xlsxMaxRows and xlsxMaxCellChars are a worksheet's limits.
const (
	xlsxMaxRows      = 1048576
	xlsxMaxCellChars = 32767
)

// xlsxSheetRows is how many rows under the header a sheet takes before
// the next sheet begins (a variable for tests).
var xlsxSheetRows = xlsxMaxRows - 1

// writeXLSX writes a workbook of n rows under a header, every cell a
// string (codes keep their leading zeros; nothing is a formula). Past the
// rows a sheet holds, the rows go on in further sheets ("Facility 2"),
// each with the header. A value too long for a cell fails rather than be
// cut. The package is deflated at the fastest level: the tables run to
// millions of cells.
func writeXLSX(dir, name, sheet string, header []string, n int, fields func(i int, dst []string) []string) (err error) {
	out, err := createOut(dir, name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", name, cerr)
		}
	}()
	f := excelize.NewFile()
	defer f.Close()
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
		return zw
	})
	vals := make([]any, len(header))
	var cells []string
	perSheet := xlsxSheetRows
	for part, start := 1, 0; part == 1 || start < n; part, start = part+1, start+perSheet {
		sh := sheet
		if part > 1 {
			sh = fmt.Sprintf("%s %d", sheet, part)
			if _, err := f.NewSheet(sh); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
		} else if err := f.SetSheetName("Sheet1", sheet); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		sw, err := f.NewStreamWriter(sh)
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		emit := func(r int, fs []string) error {
			for i, s := range fs {
				if len(s) > xlsxMaxCellChars && utf8.RuneCountInString(s) > xlsxMaxCellChars {
					return fmt.Errorf("write %s: sheet %q row %d column %s: a value of %d characters, more than a cell holds", name, sh, r, header[i], utf8.RuneCountInString(s))
				}
				vals[i] = s
				if s == "" {
					vals[i] = nil // no cell at all: smaller and faster than an empty string
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, r)
			if err := sw.SetRow(cell, vals[:len(fs)]); err != nil {
				return fmt.Errorf("write %s: sheet %q row %d: %w", name, sh, r, err)
			}
			return nil
		}
		if err := emit(1, header); err != nil {
			return err
		}
		for i := start; i < min(n, start+perSheet); i++ {
			cells = fields(i, cells[:0])
			if err := emit(i-start+2, cells); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if _, err := f.WriteTo(out); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
