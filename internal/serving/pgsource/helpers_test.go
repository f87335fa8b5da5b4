package pgsource_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

const (
	testAsOf = "2026-06-01"
	pt       = pb.Discipline_DISCIPLINE_PT
)

// startServer serves cfg (the embedded engine by default) on a loopback
// port, with no roster: the reloader loads them. The server stops when
// the test ends.
func startServer(t testing.TB, cfg server.Config) (*server.Server, string) {
	t.Helper()
	if cfg.Engine == nil {
		eng, _, err := data.NewEngine(data.Setup{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Engine = eng
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Shutdown(5 * time.Second)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return srv, lis.Addr().String()
}

// dial connects a plaintext client.
func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func client(t testing.TB, addr string) pb.AdequacyServiceClient {
	return pb.NewAdequacyServiceClient(dial(t, addr))
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
