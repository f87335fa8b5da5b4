package report

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	"github.com/geoaccess/geoaccess/internal/par"
)

// WriteAccess writes member_access.csv (with GapOptions.Detail): every
// member × discipline and member × service. Millions of rows, so chunks of members are
// formatted on every processor and written in order.
func WriteAccess(dir string, r *adequacy.GapReport) error {
	f, err := os.Create(filepath.Join(dir, "member_access.csv"))
	if err != nil {
		return fmt.Errorf("write member_access.csv: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = writeAccessRows(w, r)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write member_access.csv: %w", err)
	}
	return nil
}

func writeAccessRows(w *bufio.Writer, r *adequacy.GapReport) error {
	w.WriteString("member_id,discipline,service,county_fips,served,providers_within,nearest_npi,nearest_miles\n")
	const chunk = 16384
	n := r.AccessMembers()
	type part struct {
		buf []byte
		err error
	}
	parts := make([]chan part, (n+chunk-1)/chunk)
	for i := range parts {
		parts[i] = make(chan part, 1)
	}
	// Chunks are formatted on every processor, taken in order (par hands
	// them out so), and written in order as they come; a failed write
	// stops the formatting.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go par.ForContext(ctx, len(parts), 0, func(_, i int) {
		rows, err := r.AccessRows(i*chunk, min((i+1)*chunk, n), nil)
		var buf []byte
		for k := range rows {
			buf = appendAccess(buf, &rows[k])
		}
		parts[i] <- part{buf, err}
	})
	for _, c := range parts {
		p := <-c
		if p.err != nil {
			return p.err
		}
		if _, err := w.Write(p.buf); err != nil {
			return err
		}
	}
	return nil
}

// appendAccess formats one row through csvsafe, as csvsafe.Writer would.
func appendAccess(b []byte, a *adequacy.AccessRow) []byte {
	b = csvsafe.AppendText(b, a.MemberID)
	b = append(b, ',')
	b = csvsafe.AppendText(b, disciplineCell(a.Discipline))
	b = append(b, ',')
	b = csvsafe.AppendText(b, a.Service)
	b = append(b, ',')
	b = csvsafe.AppendText(b, a.CountyFIPS)
	b = append(b, ',')
	b = csvsafe.AppendText(b, yn(a.Served))
	b = append(b, ',')
	b = csvsafe.AppendInt(b, int64(a.ProvidersWithin))
	b = append(b, ',')
	b = csvsafe.AppendText(b, a.NearestNPI)
	b = append(b, ',')
	b = csvsafe.AppendNumber(b, miles(a.NearestMiles))
	return append(b, '\n')
}
