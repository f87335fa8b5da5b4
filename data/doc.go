// Package data owns geoaccess's inputs: the embedded defaults (county
// polygons, ZIP points, the resolved CMS HSD county table, standards
// profiles and the sample roster and members, each with its provenance in
// data/README.md) and the readers that turn files and rows into validated
// domain values: roster and member CSVs, profile and plans files and the
// HSD reference file (package data/hsd). PostgreSQL rosters and plans live
// in data/pg. Every CSV the project writes goes through data/csvsafe,
// which keeps spreadsheets from running a cell as a formula; the readers
// here undo its neutralisation, so what geoaccess writes reads back
// unchanged.
//
// Every reader reports bad input with its place (line and column, or the
// field path) and never drops a row silently.
package data
