package hsd

// A minimal reader for the parts of an Office Open XML workbook (.xlsx,
// ECMA-376) the reference file needs: the sheet list, shared strings and
// the cell values of chosen sheets. It reads stored values as text, the
// way Excel's CSV export writes them; it does not evaluate formulas or
// apply number formats, which the reference file does not rely on.

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// maxPartBytes bounds the decompressed size of any one part, so a zip
// bomb fails instead of exhausting memory. The largest part of the CY2026
// file is under 6 MB.
const maxPartBytes = 256 << 20

// workbook is an opened .xlsx: sheet name → part path, in workbook order.
type workbook struct {
	zr     *zip.Reader
	files  map[string]*zip.File
	names  []string          // sheet names in workbook order
	parts  map[string]string // sheet name → part path
	shared []string          // shared strings table
}

// openWorkbook reads the package relationships, the workbook's sheet list
// and its shared strings.
func openWorkbook(r io.ReaderAt, size int64) (*workbook, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, notHSDf("not an xlsx workbook: %v", err)
	}
	wb := &workbook{zr: zr, files: make(map[string]*zip.File), parts: make(map[string]string)}
	for _, f := range zr.File {
		wb.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	main := "xl/workbook.xml"
	if rels, err := wb.rels("_rels/.rels", ""); err == nil {
		for _, rel := range rels {
			if strings.HasSuffix(rel.typ, "/officeDocument") {
				main = rel.target
			}
		}
	}
	if _, ok := wb.files[main]; !ok {
		return nil, notHSDf("not an xlsx workbook: no part %s", main)
	}
	if err := wb.readSheetList(main); err != nil {
		return nil, err
	}
	return wb, nil
}

type relationship struct{ id, typ, target string }

// rels reads a relationships part; targets are resolved against base, the
// folder of the part the relationships belong to.
func (wb *workbook) rels(name, base string) ([]relationship, error) {
	var out []relationship
	err := wb.scan(name, func(d *xml.Decoder, t xml.StartElement) error {
		if t.Name.Local != "Relationship" || attr(t, "TargetMode") == "External" {
			return nil
		}
		target := attr(t, "Target")
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(base, target)
		}
		out = append(out, relationship{attr(t, "Id"), attr(t, "Type"), target})
		return nil
	})
	return out, err
}

// readSheetList maps sheet names to their parts and loads shared strings.
func (wb *workbook) readSheetList(main string) error {
	ids := make(map[string]string) // sheet name → relationship id
	err := wb.scan(main, func(d *xml.Decoder, t xml.StartElement) error {
		if t.Name.Local == "sheet" {
			name := attr(t, "name")
			wb.names = append(wb.names, name)
			ids[name] = attrNS(t, "id") // r:id
		}
		return nil
	})
	if err != nil {
		return err
	}
	rels, err := wb.rels(path.Join(path.Dir(main), "_rels", path.Base(main)+".rels"), path.Dir(main))
	if err != nil {
		return err
	}
	byID := make(map[string]string)
	for _, rel := range rels {
		byID[rel.id] = rel.target
		if strings.HasSuffix(rel.typ, "/sharedStrings") {
			if wb.shared, err = wb.sharedStrings(rel.target); err != nil {
				return err
			}
		}
	}
	for name, id := range ids {
		if target, ok := byID[id]; ok {
			wb.parts[name] = target
		}
	}
	return nil
}

// sheet reads the named worksheet. Names match exactly, else ignoring case
// and surrounding space.
func (wb *workbook) sheet(name string) (*sheet, error) {
	part, ok := wb.parts[name]
	if !ok {
		for n, p := range wb.parts {
			if strings.EqualFold(strings.TrimSpace(n), name) {
				part, ok = p, true
			}
		}
	}
	if !ok {
		return nil, notHSDf("no sheet %q (the workbook has %s)", name, quoteList(wb.names))
	}
	rc, err := wb.open(part)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sh, err := parseSheetXML(name, rc, wb.shared)
	if err != nil {
		return nil, err
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

// open opens a part with the size limit applied.
func (wb *workbook) open(name string) (io.ReadCloser, error) {
	f, ok := wb.files[name]
	if !ok {
		return nil, notHSDf("xlsx part %s is missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("hsd: xlsx part %s: %w: %w", name, ErrMalformed, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{&limitReader{r: rc, n: maxPartBytes, part: name}, rc}, nil
}

// limitReader fails, rather than silently truncating, past n bytes.
type limitReader struct {
	r    io.Reader
	n    int64
	part string
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, malformedf("xlsx part %s exceeds %d MiB", l.part, maxPartBytes>>20)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// scan calls fn for every start element of a small XML part.
func (wb *workbook) scan(name string, fn func(*xml.Decoder, xml.StartElement) error) error {
	rc, err := wb.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("hsd: xlsx part %s: %w: %w", name, ErrMalformed, err)
		}
		if t, ok := tok.(xml.StartElement); ok {
			if err := fn(d, t); err != nil {
				return err
			}
		}
	}
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

// attrNS returns the value of a prefixed attribute (r:id); RawToken keeps
// prefixes as written, and writers choose their own.
func attrNS(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local && a.Name.Space != "" {
			return a.Value
		}
	}
	return ""
}

// sharedStrings reads the shared strings table: each <si> is the text of
// its <t> elements, rich-text runs joined, phonetic runs (<rPh>) left out.
func (wb *workbook) sharedStrings(name string) ([]string, error) {
	rc, err := wb.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return parseSharedStrings(rc)
}

func parseSharedStrings(r io.Reader) ([]string, error) {
	var (
		out  []string
		txt  textCollector
		inSI bool
	)
	d := xml.NewDecoder(r)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("hsd: xlsx shared strings: %w: %w", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "si" {
				inSI = true
				txt.reset()
			}
			txt.start(t.Name.Local)
		case xml.EndElement:
			txt.end(t.Name.Local)
			if t.Name.Local == "si" && inSI {
				out = append(out, txt.String())
				inSI = false
			}
		case xml.CharData:
			txt.char(t)
		}
	}
}

// textCollector gathers the text of <t> elements, skipping phonetic runs.
type textCollector struct {
	b       strings.Builder
	inT     bool
	phDepth int
}

func (c *textCollector) reset() { c.b.Reset(); c.inT = false; c.phDepth = 0 }

func (c *textCollector) start(local string) {
	switch local {
	case "rPh":
		c.phDepth++
	case "t":
		c.inT = c.phDepth == 0
	}
}

func (c *textCollector) end(local string) {
	switch local {
	case "rPh":
		if c.phDepth > 0 {
			c.phDepth--
		}
	case "t":
		c.inT = false
	}
}

func (c *textCollector) char(b []byte) {
	if c.inT {
		c.b.Write(b)
	}
}

func (c *textCollector) String() string { return unescapeXString(c.b.String()) }

// unescapeXString decodes the _xHHHH_ escapes OOXML uses for characters
// XML cannot carry (ECMA-376 ST_Xstring), e.g. _x000D_ for a carriage
// return.
func unescapeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(v))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// parseSheetXML reads the cells of a worksheet part. Values are the
// stored text: shared and inline strings resolved, numbers as written
// ("7.6867250600000006E-2"), booleans as TRUE/FALSE.
func parseSheetXML(name string, r io.Reader, shared []string) (*sheet, error) {
	p := sheetParser{sh: &sheet{name: name}, shared: shared}
	d := xml.NewDecoder(r)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("hsd: sheet %q: %w: %w", name, ErrMalformed, err)
		}
		if err := p.token(tok); err != nil {
			return nil, err
		}
	}
	p.flushRow()
	return p.sh, nil
}

// sheetParser is the state of parseSheetXML between tokens.
type sheetParser struct {
	sh     *sheet
	shared []string

	inData  bool     // inside <sheetData>
	row     sheetRow // current row
	inRow   bool
	lastRow int

	inCell  bool
	cellRef string
	cellCol int
	cellTyp string
	lastCol int
	inV     bool
	v       strings.Builder
	is      textCollector // inline string
}

func (p *sheetParser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		return p.startElement(t)
	case xml.EndElement:
		return p.endElement(t.Name.Local)
	case xml.CharData:
		if p.inV {
			p.v.Write(t)
		}
		p.is.char(t)
	}
	return nil
}

func (p *sheetParser) startElement(t xml.StartElement) error {
	switch local := t.Name.Local; {
	case local == "sheetData":
		p.inData = true
	case !p.inData:
	case local == "row":
		return p.startRow(attr(t, "r"))
	case local == "c" && p.inRow:
		return p.startCell(attr(t, "r"), attr(t, "t"))
	case local == "v" && p.inCell:
		p.inV = true
	case p.inCell:
		p.is.start(local)
	}
	return nil
}

func (p *sheetParser) endElement(local string) error {
	switch {
	case local == "sheetData":
		p.inData = false
	case local == "row" && p.inRow:
		p.flushRow()
	case local == "c" && p.inCell:
		return p.endCell()
	case local == "v":
		p.inV = false
	case p.inCell:
		p.is.end(local)
	}
	return nil
}

func (p *sheetParser) startRow(ref string) error {
	p.flushRow()
	num := p.lastRow + 1
	if ref != "" {
		n, err := strconv.Atoi(ref)
		if err != nil || n < 1 || n > maxRows {
			return malformedf("sheet %q: row number %q is not 1–%d", p.sh.name, adequacy.Excerpt(ref), maxRows)
		}
		num = n
	}
	if num <= p.lastRow {
		return malformedf("sheet %q: row %d comes after row %d", p.sh.name, num, p.lastRow)
	}
	p.row, p.inRow, p.lastRow, p.lastCol = sheetRow{num: num}, true, num, -1
	return nil
}

func (p *sheetParser) startCell(ref, typ string) error {
	col := p.lastCol + 1
	if ref != "" {
		c, r, ok := parseCellRef(ref)
		if !ok || r != p.row.num {
			return malformedf("sheet %q row %d: cell reference %q is not a cell of this row", p.sh.name, p.row.num, adequacy.Excerpt(ref))
		}
		col = c
	}
	if col <= p.lastCol || col >= maxColumns {
		return malformedf("sheet %q row %d: cell %q is out of order", p.sh.name, p.row.num, adequacy.Excerpt(ref))
	}
	p.inCell, p.cellRef, p.cellCol, p.cellTyp, p.lastCol = true, ref, col, typ, col
	p.v.Reset()
	p.is.reset()
	return nil
}

func (p *sheetParser) endCell() error {
	p.inCell, p.inV = false, false
	v := p.v.String()
	switch p.cellTyp {
	case "s": // index into the shared strings
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(p.shared) {
			return &CellError{Sheet: p.sh.name, Row: p.row.num, Column: colName(p.cellCol), Header: "shared string",
				Value: v, Problem: fmt.Sprintf("is not an index into the %d shared strings", len(p.shared))}
		}
		v = p.shared[i]
	case "inlineStr":
		v = p.is.String()
	case "str":
		v = unescapeXString(v)
	case "b":
		v = map[string]string{"1": "TRUE", "0": "FALSE"}[strings.TrimSpace(v)]
	}
	if v != "" {
		p.row.cells = append(p.row.cells, cell{p.cellCol, v})
	}
	return nil
}

func (p *sheetParser) flushRow() {
	if p.inRow && len(p.row.cells) > 0 {
		p.sh.rows = append(p.sh.rows, p.row)
	}
	p.inRow = false
	p.row = sheetRow{}
}
