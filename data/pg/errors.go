package pg

import (
	"errors"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Sentinel errors callers branch on.
var (
	// ErrNoPublishedRoster: no version has been published yet.
	ErrNoPublishedRoster = errors.New("no roster version is published")
	// ErrNoSuchVersion: no roster version has that id.
	ErrNoSuchVersion = errors.New("no such roster version")
	// ErrNotPublished: the version exists but is loading or failed.
	ErrNotPublished = errors.New("roster version is not published")
	// ErrRetired: the version was published, then retired; only its
	// record remains.
	ErrRetired = errors.New("roster version is retired: its providers were deleted")
	// ErrEmptyRoster is adequacy.ErrEmptyRoster (and data.ErrEmptyRoster):
	// a roster with no participating in-person provider — no valid rows,
	// none participating, or all telehealth-only — is never published,
	// and a version found so (published by an earlier geoaccess) is never
	// read to be served.
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
