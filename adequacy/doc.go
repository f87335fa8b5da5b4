// Package adequacy owns the geo-access policy: disciplines, county types
// and their designation rule, standards profiles, client plans (their
// profiles, networks, service areas and dates: Plans), the participating
// network, the per-member decision, gap reports (by discipline and by
// service, for a plan) with recruitment ranking, the impact of a change
// of providers and every provider's criticality (Baseline: members
// evaluated once, a change applied only to those within reach of it),
// the CMS filings made from them (the providers serving each county, HSD
// records and their field edits, the pass/fail preview, the evidence for
// exception requests), and the negotiation gate; and, for rosters that
// change, their diffs, the shrink guard and the roster-version errors that
// version stores return and servers branch on (VersionError).
//
// It imports geo for geography (and internal/par for its parallel loops)
// and nothing of transport or storage: files, databases and gRPC live in
// data and cmd. Distances are statute miles on
// the WGS84 ellipsoid (geo.Distance); times are minutes, estimated from
// distance by a TimeModel unless a routing engine supplies them.
package adequacy
