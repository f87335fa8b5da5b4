// Package report writes what planners and regulators read, made from the
// decisions adequacy computed: it formats; it decides nothing.
//
// A gap report (adequacy.GapReport): CSV tables, GeoJSON, static SVG maps,
// a self-contained HTML page and a short text summary. index.html carries
// the report's data once, as JSON (pagedata.go), and a script
// (assets/report.js) that draws it: a canvas map that pans and zooms over
// a composite of panels framed to the plan's counties (layout.go) with
// state outlines dissolved from the county polygons (outline.go), and
// tables that sort, filter and page. The map's subjects are layers, a
// list keyed by name — one per discipline, one per service — so another
// dimension adds entries to the switcher and the tables without another
// design. map_<D>.svg are static maps of the same layout for print, with
// aggregated geometry (one path per shade), linked from the page rather
// than inlined in it.
//
// A network change's impact (adequacy.Impact): impact.csv, the members
// who lose and gain access, and a self-contained summary page; provider
// criticality (adequacy.Criticality): criticality.csv and printable
// dossiers per NPI, aggregate only (impact.go).
//
// The CMS filings: the HSD provider and facility tables (CSV and xlsx,
// through excelize), their field edits and pass/fail preview, and
// exception-request packets. Every CSV goes through one writer that
// neutralises formula-like cells (data/csvsafe).
package report
