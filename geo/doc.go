// Package geo owns geography for geoaccess: points, the one definition of
// distance, the provider index with its batch searches (Cells cuts many
// query points into cells of neighbours, Index.ProbeCell answers a cell
// with one search, Index.ReachCell counts a cell's points in reach and
// which points reach whom, Index.EachWithin lists the points within a
// radius) and the county lookup.
//
// Units: coordinates are WGS84 degrees (latitude, longitude); every distance
// this package reports is the geodesic distance on the WGS84 ellipsoid in
// statute miles (1 mi = 1609.344 m), the same figure as PostGIS
// ST_Distance on geography. Faster spherical arithmetic is used only to
// prune candidates: a decision near a limit is always made on the exact
// ellipsoidal figure.
//
// The package knows nothing of policy, transport or storage: it imports no
// other geoaccess package.
package geo
