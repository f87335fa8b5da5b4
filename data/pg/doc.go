// Package pg owns geoaccess's rosters and plan registries in PostgreSQL:
// the schema and its embedded, versioned migrations; loading a roster CSV
// as a new version (streamed through data.RosterReader into a staging
// partition with COPY, validated row by row, published atomically with a
// NOTIFY, or failed with nothing published); reading a published version
// back as an *adequacy.Roster; the version history (list, show, the
// current pointer, rollback, retention); and LISTEN/NOTIFY for servers
// that reload when a version is published.
//
// Versions. Every load gets a row in roster_versions whose status is
// loading, then published or failed; a published version past retention
// becomes retired (its providers deleted, its row kept for audit). The
// current version is a pointer (roster_current), moved by each publish
// and by SetCurrent (a rollback). Rosters read from here carry the
// version "pg:<id>", which decisions cite.
//
// Concurrency. Publishing, rollback and retention serialize on an
// advisory lock, so two loaders never both compare against the same
// current version and publish past each other's shrink guard. Each load
// holds a session advisory lock on its version while it runs, which is
// how RecoverAbandoned tells a live load from one whose loader or server
// died. Readers never block on loads and are blocked by retention only for
// the instant a partition is dropped.
//
// Plans. A plans file (package data) loads the same way, smaller: it is
// validated whole before the database is touched, then one transaction
// records a plan_versions row, inserts its plans, moves plan_current and
// notifies PlansChannel; a file that does not validate is recorded as a
// failed version and publishes nothing. CurrentPlans and PlansVersion
// read a version back as an *adequacy.Plans ("pg:<id>") validated against
// the reader's profiles; ListenPlans hears publishes.
//
// See docs/roster-db.md and docs/plans.md.
package pg
