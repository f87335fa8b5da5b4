package pg

import (
	"errors"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Sentinel errors callers branch on. The version errors are
// adequacy's roster-version errors (*adequacy.VersionError), which the
// server maps to responses and reloads by: one set for every version
// store.
var (
	// ErrNoPublishedRoster: no version has been published yet
	// (adequacy.ErrNoCurrentVersion).
	ErrNoPublishedRoster = adequacy.ErrNoCurrentVersion
	// ErrNoSuchVersion: no roster version has that id
	// (adequacy.ErrUnknownVersion).
	ErrNoSuchVersion = adequacy.ErrUnknownVersion
	// ErrNotPublished: the version exists but is loading or failed; it
	// is also adequacy.ErrVersionNotServable.
	ErrNotPublished = adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version is not published"))
	// ErrRetired: the version was published, then retired; only its
	// record remains. It is also adequacy.ErrVersionNotServable.
	ErrRetired = adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version is retired: its providers were deleted"))
	// ErrEmptyRoster is adequacy.ErrEmptyRoster (and data.ErrEmptyRoster):
	// a roster with no participating in-person provider — no valid rows,
	// none participating, or all telehealth-only — is never published,
	// and a version found so (published by an earlier geoaccess) is never
	// read to be served: ReadRoster's error is then also
	// adequacy.ErrVersionNotServable.
	ErrEmptyRoster = adequacy.ErrEmptyRoster
	// ErrShrink is adequacy.ErrShrink, wrapped by *adequacy.ShrinkError
	// when the shrink guard refuses a publish.
	ErrShrink = adequacy.ErrShrink
	// ErrSchemaNotMigrated: the database lacks migrations this binary
	// needs; run "geoaccess db migrate".
	ErrSchemaNotMigrated = errors.New("database schema is not migrated")
	// ErrSchemaTooNew: the database has migrations this binary does not
	// know; it was migrated by a newer geoaccess.
	ErrSchemaTooNew = errors.New("database schema is newer than this geoaccess")
	// ErrMigrationChanged: an applied migration's SQL differs from the
	// embedded one; migrations are append-only.
	ErrMigrationChanged = errors.New("applied migration differs from the embedded one")
)
