// Package server owns geoaccess's gRPC service: the conversion between
// the geoaccess.v1 protocol messages and the adequacy domain (in small
// named functions), the mapping of domain errors to gRPC status codes with
// field violations, the batch pipeline with its pluggable chunk decider
// and per-stream byte budget, the limits on what one request and one
// caller may hold (repeated fields and violations in limits.go, streams
// in the interceptors), the admin RPCs that hand reloads to a
// serving.Reloader, and the interceptors for bearer-token authorisation,
// stream limits, metrics and logs.
//
// The roster it serves is held by internal/serving (Server.Roster, a
// serving.Holder; Server.SetReloader). It imports no database driver: a
// test keeps it so.
//
// Logs never carry member data: no coordinates, addresses, ZIP codes or
// member references; only the method, the status code, the duration,
// discipline counts and the roster version.
//
// cmd/geoaccessd wires it to flags, listeners and signals; the domain
// packages (adequacy, geo, data) know nothing of gRPC.
package server
