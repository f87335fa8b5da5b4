// Package report writes a gap report (adequacy.GapReport) for network
// planners: CSV tables, GeoJSON, static SVG maps, a self-contained HTML
// page and a short text summary. It formats; it decides nothing.
//
// index.html carries the report's data once, as JSON (pagedata.go), and a
// script (assets/report.js) that draws it: a canvas map that pans and
// zooms over a composite of panels framed to the plan's counties
// (layout.go) with state outlines dissolved from the county polygons
// (outline.go), and tables that sort, filter and page. The map's subjects
// are layers, a list keyed by name — today one per discipline — so
// another dimension (a service such as lymphedema therapy) adds entries
// to the list, and so to the switcher and the tables, without another
// design. map_<D>.svg are static maps of the same layout for print, with
// aggregated geometry (one path per shade), linked from the page rather
// than inlined in it.
package report
