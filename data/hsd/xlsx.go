package hsd

// Reading the published workbook (.xlsx, ECMA-376) with excelize
// (github.com/xuri/excelize/v2), behind a check of the package that bounds
// what the library would otherwise take on trust.
//
// excelize reads every part of the package into memory, decodes the
// shared-strings table and the small XML parts (workbook, styles, theme,
// relationships) whole into structs, resolves a shared string each time a
// cell refers to it, and its row iterator stops quietly on an XML error.
// So before excelize sees a file, checkPackage reads every part once,
// streaming, and refuses with ErrMalformed:
//
//   - a part larger than its limit, or a package larger in all (declared
//     sizes first, so a zip bomb is refused before it is inflated; archive/zip
//     then holds each part to its declared size and checksum);
//   - a shared-strings table with more strings than maxSharedStrings, or a
//     string longer than a cell can hold, or with more _xHHHH_ escapes than
//     maxEscapes (the library decodes escapes in quadratic time);
//   - a worksheet that is not well-formed XML, whose rows or cells are out
//     of order or outside the spreadsheet, whose cells would expand to more
//     than maxDenseCells (the iterator pads each row to its last cell), whose
//     shared-string references are not indexes into the table, or whose
//     references to shared strings add up to more than maxReferencedBytes of
//     text (each reference is decoded anew).
//
// Values are read as stored (RawCellValue): shared and inline strings
// resolved, numbers as written ("7.6867250600000006E-2"), booleans as 1 and
// 0; number formats are not applied and formulas not evaluated, which the
// reference file does not rely on.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Bounds on a workbook. The CY2026 reference file is 2.9 MB: 38 parts,
// 22.7 MB inflated, its largest part 5.8 MB, its largest small XML part
// (styles) 39 KB, 8,764 shared strings, no escapes, about 200,000 cells
// per sheet.
const (
	maxWorkbookBytes   = 64 << 20  // the file itself
	maxParts           = 4096      // entries in the zip
	maxPartBytes       = 64 << 20  // any one part, inflated
	maxPackageBytes    = 128 << 20 // all parts, inflated
	maxSmallXMLBytes   = 4 << 20   // an XML part other than a worksheet or the shared strings (decoded whole)
	maxSharedStrings   = 1 << 18   // strings in the shared-strings table
	maxCellChars       = 32767     // characters in one cell (Excel's limit)
	maxEscapes         = 16        // _xHHHH_ escapes in one string
	maxDenseCells      = 1 << 24   // per sheet: the sum over rows of the last cell's column
	maxReferencedBytes = 64 << 20  // per workbook: text of every shared-string reference
)

// oleHeader starts a Compound File: an encrypted workbook or a legacy .xls.
var oleHeader = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// openWorkbook checks the package and opens it with excelize.
func openWorkbook(r io.ReaderAt, size int64) (*excelize.File, error) {
	if size > maxWorkbookBytes {
		return nil, malformedf("the workbook is %s; at most %s", mib(uint64(size)), mib(maxWorkbookBytes))
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(r, 0, size), buf); err != nil {
		return nil, fmt.Errorf("hsd: reading the workbook: %w", err)
	}
	if bytes.HasPrefix(buf, oleHeader) {
		return nil, notHSDf("not an xlsx workbook: an encrypted workbook or a legacy .xls file")
	}
	zr, err := zip.NewReader(bytes.NewReader(buf), size)
	if err != nil {
		return nil, notHSDf("not an xlsx workbook: %v", err)
	}
	if err := checkPackage(zr); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf), excelize.Options{
		RawCellValue: true,
		// Keep every part in memory (the package is bounded above); never
		// spill to temporary files.
		UnzipSizeLimit:    maxPackageBytes,
		UnzipXMLSizeLimit: maxPackageBytes,
	})
	if err != nil {
		return nil, notHSDf("not an xlsx workbook: %v", err)
	}
	return f, nil
}

// readSheets reads the named worksheets. Names match exactly, else
// ignoring case and surrounding space.
func readSheets(f *excelize.File, names []string) (map[string]*sheet, error) {
	list := f.GetSheetList()
	out := make(map[string]*sheet, len(names))
	for _, name := range names {
		actual, ok := "", false
		for _, n := range list {
			if n == name {
				actual, ok = n, true
				break
			}
		}
		for _, n := range list {
			if !ok && strings.EqualFold(strings.TrimSpace(n), name) {
				actual, ok = n, true
			}
		}
		if !ok {
			return nil, notHSDf("no sheet %q (the workbook has %s)", name, quoteList(list))
		}
		sh, err := readSheet(f, actual, name)
		if err != nil {
			return nil, err
		}
		out[name] = sh
	}
	return out, nil
}

// readSheet reads one worksheet's non-empty cells. checkPackage has made
// sure rows come in order, so the iterator's count is the row number.
func readSheet(f *excelize.File, actual, name string) (*sheet, error) {
	rows, err := f.Rows(actual)
	if err != nil {
		return nil, fmt.Errorf("hsd: sheet %q: %w: %w", name, ErrMalformed, err)
	}
	defer rows.Close()
	sh := &sheet{name: name}
	for num := 1; rows.Next(); num++ {
		cols, err := rows.Columns()
		if err != nil {
			return nil, fmt.Errorf("hsd: sheet %q row %d: %w: %w", name, num, ErrMalformed, err)
		}
		row := sheetRow{num: num}
		for c, v := range cols {
			if v != "" {
				row.cells = append(row.cells, cell{c, v})
			}
		}
		if len(row.cells) > 0 {
			sh.rows = append(sh.rows, row)
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("hsd: sheet %q: %w: %w", name, ErrMalformed, err)
	}
	return sh, nil
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "no sheets"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(adequacy.Excerpt(n))
	}
	return strings.Join(q, ", ")
}

func mib(n uint64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// partName is a zip entry's name as excelize keys it.
func partName(f *zip.File) string {
	return strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/")
}

// checkPackage applies the bounds above to every part, streaming.
func checkPackage(zr *zip.Reader) error {
	if len(zr.File) > maxParts {
		return malformedf("the workbook has %d parts; at most %d", len(zr.File), maxParts)
	}
	var total uint64
	var sst *zip.File
	for _, f := range zr.File {
		if f.UncompressedSize64 > maxPartBytes {
			return malformedf("xlsx part %s is %s inflated; at most %s", partName(f), mib(f.UncompressedSize64), mib(maxPartBytes))
		}
		if total += f.UncompressedSize64; total > maxPackageBytes {
			return malformedf("the workbook's parts are over %s inflated; at most %s", mib(total), mib(maxPackageBytes))
		}
		if strings.EqualFold(partName(f), "xl/sharedStrings.xml") {
			sst = f
		}
	}
	var lens []int32 // shared string lengths, for the budget of references
	if sst != nil {
		if err := checkPart(sst, func(name string, d *xmlScan, root xml.StartElement) error {
			var err error
			lens, err = checkSharedStrings(name, d)
			return err
		}); err != nil {
			return err
		}
	}
	budget := int64(maxReferencedBytes)
	for _, f := range zr.File {
		if f == sst {
			continue
		}
		if err := checkPart(f, func(name string, d *xmlScan, root xml.StartElement) error {
			switch root.Name.Local {
			case "worksheet", "dialogsheet", "macrosheet":
				return checkSheetXML(name, d, lens, &budget)
			}
			if f.UncompressedSize64 > maxSmallXMLBytes {
				return malformedf("xlsx part %s (<%s>) is %s inflated; at most %s", name, root.Name.Local, mib(f.UncompressedSize64), mib(maxSmallXMLBytes))
			}
			return drainXML(d)
		}); err != nil {
			return err
		}
	}
	return nil
}

// checkPart opens a part and, when it is XML, hands its decoder and root
// element to check; other parts are read through, which verifies their
// size and checksum.
func checkPart(f *zip.File, check func(name string, d *xmlScan, root xml.StartElement) error) error {
	name := partName(f)
	rc, err := f.Open()
	if err != nil {
		return xmlErr(name, err)
	}
	defer rc.Close()
	br := bufio.NewReader(&limitReader{r: rc, n: maxPartBytes, part: name})
	if !looksXML(br) {
		if _, err := io.Copy(io.Discard, br); err != nil {
			return xmlErr(name, err)
		}
		return nil
	}
	d := &xmlScan{d: xml.NewDecoder(br), name: name}
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil // no root element: nothing for excelize to decode
		}
		if err != nil {
			return err
		}
		if root, ok := tok.(xml.StartElement); ok {
			return check(name, d, root)
		}
	}
}

// xmlScan reads raw tokens (no name-space work, little allocation) and
// checks what RawToken does not: that elements nest and the part does not
// end inside one.
type xmlScan struct {
	d     *xml.Decoder
	name  string
	stack []xml.Name
}

// RawToken returns the next token; errors are already reported for the
// part.
func (s *xmlScan) RawToken() (xml.Token, error) {
	tok, err := s.d.RawToken()
	switch {
	case errors.Is(err, io.EOF) && len(s.stack) > 0:
		return nil, malformedf("xlsx part %s: XML ends inside <%s>", s.name, s.stack[len(s.stack)-1].Local)
	case errors.Is(err, io.EOF):
		return nil, io.EOF
	case err != nil:
		return nil, xmlErr(s.name, err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if len(s.stack) == 256 {
			return nil, malformedf("xlsx part %s: XML nested deeper than 256 elements", s.name)
		}
		s.stack = append(s.stack, t.Name)
	case xml.EndElement:
		if len(s.stack) == 0 || s.stack[len(s.stack)-1] != t.Name {
			return nil, malformedf("xlsx part %s: XML element </%s> closes nothing open", s.name, t.Name.Local)
		}
		s.stack = s.stack[:len(s.stack)-1]
	}
	return tok, nil
}

// looksXML reports whether a part starts, after an optional byte-order
// mark and white space, with '<'.
func looksXML(br *bufio.Reader) bool {
	b, _ := br.Peek(512)
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

// xmlErr reports a part that cannot be read: inflating it or parsing it
// failed.
func xmlErr(name string, err error) error {
	var ml *limitError
	if errors.As(err, &ml) {
		return ml
	}
	return fmt.Errorf("hsd: xlsx part %s: %w: %w", name, ErrMalformed, err)
}

// drainXML reads the rest of an XML part, checking that it is well formed.
func drainXML(d *xmlScan) error {
	for {
		if _, err := d.RawToken(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// limitReader fails, rather than silently truncating, past n bytes.
type limitReader struct {
	r    io.Reader
	n    int64
	part string
}

type limitError struct{ part string }

func (e *limitError) Error() string {
	return fmt.Sprintf("hsd: xlsx part %s exceeds %s inflated: %s", e.part, mib(maxPartBytes), ErrMalformed)
}

func (e *limitError) Unwrap() error { return ErrMalformed }

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, &limitError{l.part}
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// textCounter measures the text of <t> elements the way excelize joins
// it (rich-text runs joined, phonetic runs left out), without keeping it.
type textCounter struct {
	chars, escapes int
	inT            bool
	phDepth        int
	tail           []byte // the last bytes seen, so escapes split across tokens count
}

func (c *textCounter) reset() { *c = textCounter{tail: c.tail[:0]} }

func (c *textCounter) start(local string) {
	switch local {
	case "rPh":
		c.phDepth++
	case "t":
		c.inT = c.phDepth == 0
	}
}

func (c *textCounter) end(local string) {
	switch local {
	case "rPh":
		if c.phDepth > 0 {
			c.phDepth--
		}
	case "t":
		c.inT = false
	}
}

func (c *textCounter) char(b []byte) {
	if c.inT {
		c.add(b)
	}
}

func (c *textCounter) add(b []byte) {
	c.chars += utf8.RuneCount(b)
	joined := append(c.tail, b...)
	c.escapes += strings.Count(string(joined), "_x") - strings.Count(string(c.tail), "_x")
	if len(joined) > 1 {
		joined = joined[len(joined)-1:]
	}
	c.tail = append(c.tail[:0], joined...)
}

// check applies the per-string limits.
func (c *textCounter) check(where string) error {
	switch {
	case c.chars > maxCellChars:
		return malformedf("%s: a string of %d characters; a cell holds at most %d", where, c.chars, maxCellChars)
	case c.escapes > maxEscapes:
		return malformedf("%s: a string with %d _xHHHH_ escapes; at most %d", where, c.escapes, maxEscapes)
	}
	return nil
}

// checkSharedStrings streams the shared-strings table (the root <sst> is
// already read) and returns each string's length in bytes, about.
func checkSharedStrings(name string, d *xmlScan) ([]int32, error) {
	var (
		lens []int32
		txt  textCounter
		inSI bool
		size int
	)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return lens, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "si" {
				if len(lens) == maxSharedStrings {
					return nil, malformedf("xlsx part %s: more than %d shared strings", name, maxSharedStrings)
				}
				inSI, size = true, 0
				txt.reset()
			}
			txt.start(t.Name.Local)
		case xml.EndElement:
			txt.end(t.Name.Local)
			if t.Name.Local == "si" && inSI {
				if err := txt.check(fmt.Sprintf("xlsx part %s: shared string %d", name, len(lens))); err != nil {
					return nil, err
				}
				lens = append(lens, int32(size))
				inSI = false
			}
		case xml.CharData:
			if txt.inT {
				size += len(t)
			}
			txt.char(t)
		}
	}
}

// checkSheetXML streams a worksheet (the root is already read): rows in
// ascending order within the sheet's limits, cells of their row in
// ascending columns, shared-string references within the table, strings
// within a cell's limits, and the work the library's row iterator will do
// bounded.
func checkSheetXML(name string, d *xmlScan, sst []int32, budget *int64) error {
	var (
		inData, inRow, inCell, inV, inIS bool
		rowNum, lastCol                  int
		cellRef, cellType                string
		v                                []byte
		txt                              textCounter
		dense                            int64
	)
	where := func() string { return fmt.Sprintf("xlsx part %s row %d", name, rowNum) }
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch local := t.Name.Local; {
			case local == "sheetData":
				inData = true
			case !inData:
			case local == "row":
				num := rowNum + 1
				if ref := attr(t, "r"); ref != "" {
					n, err := strconv.Atoi(ref)
					if err != nil || n < 1 || n > maxRows {
						return malformedf("xlsx part %s: row number %q is not 1–%d", name, adequacy.Excerpt(ref), maxRows)
					}
					num = n
				}
				if num <= rowNum {
					return malformedf("xlsx part %s: row %d comes after row %d", name, num, rowNum)
				}
				rowNum, inRow, lastCol = num, true, -1
			case local == "c" && inRow:
				col := lastCol + 1
				if ref := attr(t, "r"); ref != "" {
					c, r, ok := parseCellRef(ref)
					if !ok || r != rowNum {
						return malformedf("%s: cell reference %q is not a cell of this row", where(), adequacy.Excerpt(ref))
					}
					col = c
				}
				if col <= lastCol || col >= maxColumns {
					return malformedf("%s: cell %s is out of order", where(), colName(col))
				}
				if s := attr(t, "s"); s != "" {
					if _, err := strconv.Atoi(s); err != nil {
						return malformedf("%s: cell %s has style %q, not a number", where(), colName(col), adequacy.Excerpt(s))
					}
				}
				lastCol, inCell, cellRef, cellType, v = col, true, colName(col)+strconv.Itoa(rowNum), attr(t, "t"), v[:0]
				txt.reset()
			case local == "v" && inCell:
				inV = true
			case local == "is" && inCell:
				inIS = true
			case inIS:
				txt.start(local)
			}
		case xml.EndElement:
			switch local := t.Name.Local; {
			case local == "sheetData":
				inData = false
			case local == "row" && inRow:
				if dense += int64(lastCol + 1); dense > maxDenseCells {
					return malformedf("%s: the rows so far span %d cells; a sheet may span at most %d", where(), dense, maxDenseCells)
				}
				inRow = false
			case local == "c" && inCell:
				if err := checkCell(cellRef, cellType, v, &txt, sst, budget, where); err != nil {
					return err
				}
				inCell, inV, inIS = false, false, false
			case local == "v":
				inV = false
			case local == "is":
				inIS = false
			case inIS:
				txt.end(local)
			}
		case xml.CharData:
			switch {
			case inV:
				if len(v)+len(t) > 4*maxCellChars {
					return malformedf("%s: cell %s has a value longer than a cell holds", where(), cellRef)
				}
				v = append(v, t...)
			case inIS:
				txt.char(t)
			}
		}
	}
}

func checkCell(ref, typ string, v []byte, txt *textCounter, sst []int32, budget *int64, where func() string) error {
	switch typ {
	case "s":
		s := strings.TrimSpace(string(v))
		i, err := strconv.Atoi(s)
		if s == "" {
			return nil // excelize reads an empty reference as an empty cell
		}
		if err != nil || i < 0 || i >= len(sst) {
			return malformedf("%s: cell %s: %q is not an index into the %d shared strings", where(), ref, adequacy.Excerpt(s), len(sst))
		}
		if *budget -= int64(sst[i]); *budget < 0 {
			return malformedf("%s: cell %s: the workbook's references to shared strings add up to more than %s of text", where(), ref, mib(maxReferencedBytes))
		}
	case "inlineStr":
		return txt.check(fmt.Sprintf("%s cell %s", where(), ref))
	default:
		if utf8.RuneCount(v) > maxCellChars {
			return malformedf("%s: cell %s has a value longer than a cell holds", where(), ref)
		}
	}
	return nil
}

// attr returns the value of the unprefixed attribute local.
func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}
