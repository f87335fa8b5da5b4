// Package report writes a gap report (adequacy.GapReport) for network
// planners: CSV tables, GeoJSON, SVG maps, a self-contained HTML page and
// a short text summary; and the CMS filings made from one: the HSD
// provider and facility tables (CSV and xlsx, through excelize), their
// field edits and pass/fail preview, and exception-request packets. It
// formats; it decides nothing. Filing CSVs go through one writer
// (table.go) that neutralises formula-like fields.
package report
