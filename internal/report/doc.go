// Package report writes a gap report (adequacy.GapReport) for network
// planners: CSV tables, GeoJSON, SVG maps, a self-contained HTML page and
// a short text summary. It formats; it decides nothing.
package report
