// Package serving owns geoaccess's live roster: the Holder that keeps
// the serving engine and swaps a freshly built network in without
// failing a call (and never one with no participating in-person
// provider), and the Reloader that keeps it in step with a store of
// roster versions — on start (with fallback to an earlier version), on
// the nightly Schedule (NextDaily), on the store's notifications, on
// retries with Backoff, and on the admin reloads — with its shrink
// guard, the diff of every swap, and its Prometheus metrics.
//
// A store is a VersionSource (and, when it hears of publishes, a
// Watcher); package pgsource is the PostgreSQL one. Errors about a
// version are adequacy's roster-version errors (*adequacy.VersionError,
// adequacy.ErrShrink), which stores return and the gRPC server maps to
// status codes.
//
// It imports the domain (adequacy) and no transport or database: the
// gRPC server (internal/server) serves what the holder holds and hands
// admin reloads to the reloader; cmd/geoaccessd wires a source into a
// reloader and the reloader into the server.
package serving
