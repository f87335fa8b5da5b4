package data

import (
	"fmt"
	"io"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
)

// RosterHeader is the header WriteRoster writes: every column ReadRoster
// knows, in its canonical spelling.
var RosterHeader = []string{"npi", "discipline", "name", "lat", "lon", "address1", "address2", "city", "state", "zip",
	"county_fips", "networks", "designations", "services", "participating", "telehealth_only", "accepting_new_patients",
	"effective_date", "termination_date"}

// WriteRoster writes providers as a roster CSV that ReadRoster reads back
// unchanged. Cells go through csvsafe: text that could start a
// spreadsheet formula is neutralised (ReadRoster undoes it), the
// coordinates stay numbers.
func WriteRoster(w io.Writer, ps []adequacy.Provider) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.WriteText(RosterHeader...); err != nil {
		return fmt.Errorf("write roster: %w", err)
	}
	t := csvsafe.Text
	rec := make([]csvsafe.Cell, 0, len(RosterHeader))
	for i := range ps {
		p := &ps[i]
		rec = append(rec[:0], t(p.NPI), t(p.Discipline.String()), t(p.Name),
			csvsafe.Float(p.Location.Lat, -1), csvsafe.Float(p.Location.Lon, -1),
			t(p.Address.Line1), t(p.Address.Line2), t(p.Address.City), t(p.Address.State), t(p.Address.ZIP),
			t(p.CountyFIPS), t(strings.Join(p.Networks, listSeparator)), t(strings.Join(p.Designations, listSeparator)),
			t(strings.Join(p.Services, listSeparator)), t(yn(p.Participating)), t(yn(p.TelehealthOnly)), t(yn(p.AcceptingNewPatients)),
			t(p.Effective.String()), t(p.Termination.String()))
		if err := cw.Write(rec...); err != nil {
			return fmt.Errorf("write roster: %w", err)
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("write roster: %w", err)
	}
	return nil
}

// MemberHeader is the header WriteMembers writes.
var MemberHeader = []string{"member_id", "lat", "lon", "zip", "county_fips"}

// WriteMembers writes a member CSV that ReadMembers reads back: a member
// with a point gets lat and lon, one located by ZIP only leaves them
// empty. Cells go through csvsafe, as in WriteRoster.
func WriteMembers(w io.Writer, ms []adequacy.GapMember) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.WriteText(MemberHeader...); err != nil {
		return fmt.Errorf("write members: %w", err)
	}
	for i := range ms {
		m := &ms[i]
		lat, lon := csvsafe.Number(""), csvsafe.Number("")
		if m.HasPoint {
			lat, lon = csvsafe.Float(m.Point.Lat, -1), csvsafe.Float(m.Point.Lon, -1)
		}
		if err := cw.Write(csvsafe.Text(m.ID), lat, lon, csvsafe.Text(m.ZIP), csvsafe.Text(m.CountyFIPS)); err != nil {
			return fmt.Errorf("write members: %w", err)
		}
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("write members: %w", err)
	}
	return nil
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}
