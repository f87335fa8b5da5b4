// Package hsd owns the CMS Medicare Advantage Health Service Delivery (HSD)
// reference file: reading it, resolving its counties to county polygons,
// and the compact county-standards table derived from it.
//
// The reference file publishes, per CMS county (identified by its SSA state
// and county code, not FIPS), the county designation of 42 CFR 422.116(c),
// beneficiary counts, the minimum number of providers per specialty
// (422.116(e)) and the maximum time and distance per specialty (422.116(d),
// already including CMS's county customisations), plus the county ×
// specialty pairs where a Certificate-of-Need credit is available. This
// package reads the four disciplines geoaccess covers (adequacy.Discipline:
// chiropractor 010, physical 049, occupational 050 and speech therapy 051).
//
// Three layers:
//
//   - ReadXLSX and ReadCSV read the published workbook (or a folder of its
//     sheets exported as CSV) into a Reference, one Row per CMS county.
//     The workbook is read with excelize after a streaming check of the
//     package that bounds part sizes, shared strings, rows and cells, so a
//     hostile file fails fast with ErrMalformed (xlsx.go).
//     Columns are found by header text and the specialty-code row, never by
//     position, so a later year's file with added or reordered specialties
//     still parses. Errors name the sheet, the row and column a spreadsheet
//     user sees, and what was expected.
//   - Resolve joins the CMS counties to county polygons (FIPS) by state and
//     normalised name, with documented tables for the cases a name join
//     cannot settle (Alaska's 2019 split of Valdez-Cordova, Guam's villages,
//     American Samoa's villages within districts, the U.S. Virgin Islands'
//     combined St. John-Thomas).
//   - WriteTable and ReadTable store the resolved counties as the compact
//     CSV embedded as the default county table
//     (data/assets/standards/cms-hsd-2026.csv).
//
// The package reads only what it is given: no network, no files outside
// the fs.FS or readers passed in.
package hsd
