package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Limits of the roster's list columns.
const (
	MaxNetworkIDLen      = adequacy.MaxNetworkIDLen // characters of one network id
	MaxNetworksPerRow    = 32
	MaxCodesPerCell      = 64 // designations or services codes read from one cell
	listSeparator        = ";"
	maxSharedRosterLists = 1 << 16
)

// lists shares equal code lists between providers: most rows carry none
// or one of a few combinations, and a million providers should not hold a
// million copies of ["ACME-MA"]. It also remembers what each cell text
// read as, so a repeated cell costs one map lookup: networks by cell,
// designations and services by discipline and cell (those that read with
// no warning).
type lists struct {
	shared map[string][]string
	cells  [3][4]map[string][]string // networks, designations, services × discipline
}

const (
	networksCells = iota
	designationsCells
	servicesCells
)

func newLists() *lists {
	l := &lists{shared: map[string][]string{}}
	for i := range l.cells {
		for d := range l.cells[i] {
			l.cells[i][d] = map[string][]string{}
		}
	}
	return l
}

// remember records what a cell read as.
func (l *lists) remember(kind int, d adequacy.Discipline, cell string, codes []string) {
	if m := l.cells[kind][d]; len(m) < maxSharedRosterLists {
		m[strings.Clone(cell)] = codes // the cell is a slice of the whole record
	}
}

func (l *lists) share(codes []string) []string {
	if len(codes) == 0 {
		return nil
	}
	codes = slices.Clip(codes) // an append by a reader never writes into a shared array
	key := strings.Join(codes, listSeparator)
	if s, ok := l.shared[key]; ok {
		return s
	}
	if len(l.shared) < maxSharedRosterLists {
		l.shared[key] = codes
	}
	return codes
}

// split cuts a list cell at ';', trimming each item; empty items stay, for
// the caller to judge.
func split(cell string) []string {
	if cell == "" {
		return nil
	}
	items := strings.Split(cell, listSeparator)
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return items
}

// networks reads the networks column: ';'-separated network ids, or under
// the older header "network" one id. An id that is empty, longer than
// MaxNetworkIDLen, not printable text or holds a ';', or more than
// MaxNetworksPerRow ids, makes the row bad: plans count providers by
// network, so a garbled id must not quietly drop a provider from one.
func (rd *RosterReader) networks(e *rowErrs) []string {
	cell := rd.get(colNetworks)
	if cell == "" {
		return nil
	}
	if l, ok := rd.lists.cells[networksCells][0][cell]; ok {
		return l
	}
	items := split(cell)
	if rd.oneNet {
		items = []string{cell} // one id, as the column always held
	}
	if len(items) > MaxNetworksPerRow {
		e.add("networks", "", fmt.Sprintf("has %d network ids; at most %d are allowed", len(items), MaxNetworksPerRow))
		return nil
	}
	out := make([]string, 0, len(items))
	for _, id := range items {
		if reason := badNetworkID(id); reason != "" {
			e.add("networks", id, reason)
			return nil
		}
		out = append(out, id)
	}
	slices.Sort(out)
	l := rd.lists.share(slices.Compact(out))
	rd.lists.remember(networksCells, 0, cell, l)
	return l
}

// badNetworkID says why an id of the networks column (trimmed) is not a
// network id, or "" (adequacy.CheckNetworkID).
func badNetworkID(id string) string {
	switch adequacy.CheckNetworkID(id) {
	case adequacy.NetworkIDEmpty:
		return "has an empty network id (two ';' in a row, or one at an end)"
	case adequacy.NetworkIDNotUTF8:
		return "network id is not valid UTF-8 text"
	case adequacy.NetworkIDTooLong:
		return fmt.Sprintf("network id is longer than %d characters", MaxNetworkIDLen)
	case adequacy.NetworkIDSeparator:
		return "a network id cannot contain ';' (give several ids in the networks column)"
	case adequacy.NetworkIDNonPrinting:
		return "network id has a control or non-printing character"
	}
	return ""
}

// designations reads the designations column into canonical codes. An
// unknown code, or one the row's discipline cannot hold, is a warning and
// is ignored: rosters carry degrees (DPT, MS) and local credentials there.
func (rd *RosterReader) designations(w *rowErrs, d adequacy.Discipline) []string {
	return rd.codes(w, "designations", colDesignations, designationsCells, d, func(code string) (string, string) {
		sd, ok := rd.vocab.Designation(code)
		switch {
		case !ok:
			return "", "unknown designation: ignored"
		case !sd.Holds(d):
			return "", fmt.Sprintf("%s is not a %s designation (held by %s): ignored", sd.Code, d, disciplines(sd.Disciplines))
		}
		return sd.Code, ""
	})
}

// services reads the services column into canonical codes, warning of and
// ignoring unknown codes and services the row's discipline does not offer.
func (rd *RosterReader) services(w *rowErrs, d adequacy.Discipline) []string {
	return rd.codes(w, "services", colServices, servicesCells, d, func(code string) (string, string) {
		s, ok := rd.vocab.Service(code)
		switch {
		case !ok:
			return "", "unknown service: ignored"
		case !s.OfferedBy(d):
			return "", fmt.Sprintf("%s is not a %s service (offered by %s): ignored", s.Code, d, disciplines(s.Disciplines))
		}
		return s.Code, ""
	})
}

// codes splits a list cell and resolves each item; empty items are
// skipped, repeats folded, the result sorted.
func (rd *RosterReader) codes(w *rowErrs, canon string, col rosterCol, kind int, d adequacy.Discipline, resolve func(string) (code, warning string)) []string {
	cell := rd.get(col)
	if cell == "" {
		return nil
	}
	if l, ok := rd.lists.cells[kind][d][cell]; ok {
		return l
	}
	warned := len(w.errs)
	items := split(cell)
	var out []string
	n := 0
	for _, it := range items {
		if it == "" {
			continue
		}
		if n++; n > MaxCodesPerCell {
			w.add(canon, "", fmt.Sprintf("more than %d codes: the rest are ignored", MaxCodesPerCell))
			break
		}
		code, warning := resolve(it)
		if warning != "" {
			w.add(canon, it, warning)
			continue
		}
		out = append(out, code)
	}
	slices.Sort(out)
	l := rd.lists.share(slices.Compact(out))
	if len(w.errs) == warned {
		rd.lists.remember(kind, d, cell, l)
	}
	return l
}

func disciplines(ds []adequacy.Discipline) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}
