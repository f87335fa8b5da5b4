package report

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// The filing files (the HSD export, exception requests) are written here,
// in one place: CSV through csvTable, every field neutralised against
// spreadsheet formulas, and the xlsx twins through excelize.

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

// neutralize keeps a field from being read as a formula when the CSV is
// opened in a spreadsheet (OWASP, CSV injection): a field starting with
// =, +, -, @, tab or carriage return gets a leading apostrophe, unless it
// is a number ("-73.99" stays a number).
func neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
	case '+', '-':
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return s
		}
	default:
		return s
	}
	return "'" + s
}

// csvTable writes one CSV file, quoting exactly as encoding/csv does.
type csvTable struct {
	name string
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	rows int
}

func createCSV(dir, name string, header []string) (*csvTable, error) {
	f, err := createOut(dir, name)
	if err != nil {
		return nil, err
	}
	t := &csvTable{name: name, f: f, w: bufio.NewWriterSize(f, 1<<16)}
	if err := t.row(header); err != nil {
		f.Close()
		return nil, err
	}
	t.rows = 0
	return t, nil
}

// row writes one record.
func (t *csvTable) row(fields []string) error {
	b := t.buf[:0]
	for i, s := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, neutralize(s))
	}
	b = append(b, '\n')
	t.buf = b
	t.rows++
	if _, err := t.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", t.name, err)
	}
	return nil
}

// close flushes and closes the file; the first error wins.
func (t *csvTable) close(err error) error {
	if ferr := t.w.Flush(); err == nil && ferr != nil {
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

// writeXLSX writes a workbook of one sheet: the header, then each row,
// every cell a string (codes keep their leading zeros; nothing is a
// formula). A value too long for a cell or more rows than a sheet holds
// fail rather than be cut.
func writeXLSX(dir, name, sheet string, header []string, rows func(emit func([]string) error) error) (err error) {
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
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	vals := make([]any, len(header))
	r := 0
	emit := func(fields []string) error {
		r++
		if r > xlsxMaxRows {
			return fmt.Errorf("write %s: more than %d rows, the most a sheet holds (the CSV has them all)", name, xlsxMaxRows-1)
		}
		for i, s := range fields {
			if len(s) > xlsxMaxCellChars && len([]rune(s)) > xlsxMaxCellChars {
				return fmt.Errorf("write %s: row %d column %s: a value of %d characters, more than a cell holds", name, r, header[i], len([]rune(s)))
			}
			vals[i] = s
		}
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := sw.SetRow(cell, vals[:len(fields)]); err != nil {
			return fmt.Errorf("write %s: row %d: %w", name, r, err)
		}
		return nil
	}
	if err := emit(header); err != nil {
		return err
	}
	if err := rows(emit); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := f.WriteTo(out); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// runAll runs the steps at once and returns the first error.
func runAll(steps ...func() error) error {
	errs := make(chan error, len(steps))
	for _, s := range steps {
		go func() { errs <- s() }()
	}
	var first error
	for range steps {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
