package server

import "google.golang.org/grpc"

// BareLike returns a new gRPC server with the options and interceptors s
// was built with (cfg as given to New) and no services, for benchmarks
// that serve something else exactly as s serves.
func (s *Server) BareLike(cfg Config) *grpc.Server {
	return grpc.NewServer(serverOptions(withDefaults(cfg), s)...)
}
