package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/testcert"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsFixture writes a CA, a server key pair and the CA bundle to files,
// as an operator would hand them to geoaccessd.
type tlsFixture struct {
	ca, rogue              *testcert.CA
	certFile, keyFile, ca1 string
}

func newTLSFixture(t *testing.T) *tlsFixture {
	dir := t.TempDir()
	f := &tlsFixture{ca: testcert.NewCA(t, "geoaccess test CA"), rogue: testcert.NewCA(t, "rogue CA")}
	cert, key := f.ca.Issue(t, "geoaccessd", true)
	f.certFile, f.keyFile = writeFile(t, dir, "server.pem", cert), writeFile(t, dir, "server.key", key)
	f.ca1 = writeFile(t, dir, "ca.pem", f.ca.PEM)
	return f
}

// clientTLS trusts the test CA and, with ca set, presents a client
// certificate it signed.
func (f *tlsFixture) clientTLS(t *testing.T, ca *testcert.CA) grpc.DialOption {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(f.ca.PEM)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if ca != nil {
		cp, kp := ca.Issue(t, "member-services", false)
		cert, err := tls.X509KeyPair(cp, kp)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg))
}

func rosterStatus(t *testing.T, addr string, opt grpc.DialOption) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := pb.NewAdequacyServiceClient(dial(t, addr, opt)).GetRosterStatus(ctx, &pb.GetRosterStatusRequest{})
	return err
}

func TestTLS(t *testing.T) {
	f := newTLSFixture(t)
	cfg, err := server.TLSConfig(f.certFile, f.keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, server.Config{TLS: cfg}, false)
	if err := rosterStatus(t, addr, f.clientTLS(t, nil)); err != nil {
		t.Errorf("TLS client trusting the CA: %v", err)
	}
	if err := rosterStatus(t, addr, grpc.WithTransportCredentials(insecure.NewCredentials())); status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext client: %v, want Unavailable", err)
	}
	if err := rosterStatus(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12}))); status.Code(err) != codes.Unavailable {
		t.Errorf("client not trusting the CA: %v, want Unavailable", err)
	}
}

func TestMutualTLS(t *testing.T) {
	f := newTLSFixture(t)
	cfg, err := server.TLSConfig(f.certFile, f.keyFile, f.ca1)
	if err != nil {
		t.Fatal(err)
	}
	_, addr := startServer(t, server.Config{TLS: cfg}, false)
	if err := rosterStatus(t, addr, f.clientTLS(t, f.ca)); err != nil {
		t.Errorf("client certificate from the CA: %v", err)
	}
	if err := rosterStatus(t, addr, f.clientTLS(t, nil)); status.Code(err) != codes.Unavailable {
		t.Errorf("no client certificate: %v, want Unavailable", err)
	}
	if err := rosterStatus(t, addr, f.clientTLS(t, f.rogue)); status.Code(err) != codes.Unavailable {
		t.Errorf("client certificate from another CA: %v, want Unavailable", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	f := newTLSFixture(t)
	dir := t.TempDir()
	notPEM := writeFile(t, dir, "junk.pem", []byte("not a certificate"))
	for _, tc := range [][3]string{
		{f.certFile, "", ""},
		{f.certFile, filepath.Join(dir, "missing.key"), ""},
		{f.certFile, f.keyFile, filepath.Join(dir, "missing-ca.pem")},
		{f.certFile, f.keyFile, notPEM},
	} {
		if _, err := server.TLSConfig(tc[0], tc[1], tc[2]); err == nil {
			t.Errorf("TLSConfig%q: no error", tc)
		}
	}
}

const (
	readerToken = "reader-token-0123456789"
	adminToken  = "admin-token-0123456789ab"
)

func withToken(tok string) context.Context {
	ctx := context.Background()
	if tok != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tok)
	}
	return ctx
}

func TestTokenAuth(t *testing.T) {
	tokens, err := server.ParseTokens(strings.NewReader("# test tokens\n" + readerToken + " reader ops-dashboard\n\n" + adminToken + " admin release-bot\n"))
	if err != nil {
		t.Fatal(err)
	}
	adminRPC := pb.AdequacyService_GetRosterStatus_FullMethodName // stands in for ReloadRoster
	_, addr := startServer(t, server.Config{Tokens: tokens, AdminMethods: []string{adminRPC}}, false)
	cc := dial(t, addr)
	c := pb.NewAdequacyServiceClient(cc)
	check := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf}
	tests := []struct {
		name  string
		auth  string
		admin bool // call the admin method
		code  codes.Code
	}{
		{"no token", "", false, codes.Unauthenticated},
		{"unknown token", "Bearer not-a-known-token-at-all", false, codes.Unauthenticated},
		{"not bearer", "Basic " + readerToken, false, codes.Unauthenticated},
		{"reader", "Bearer " + readerToken, false, codes.OK},
		{"reader, lower-case scheme", "bearer " + readerToken, false, codes.OK},
		{"admin", "Bearer " + adminToken, false, codes.OK},
		{"reader calls admin method", "Bearer " + readerToken, true, codes.PermissionDenied},
		{"admin calls admin method", "Bearer " + adminToken, true, codes.OK},
		{"no token, admin method", "", true, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(withToken(tt.auth), 5*time.Second)
			defer cancel()
			var err error
			if tt.admin {
				_, err = c.GetRosterStatus(ctx, &pb.GetRosterStatusRequest{})
			} else {
				_, err = c.CheckAccess(ctx, check)
			}
			if status.Code(err) != tt.code {
				t.Errorf("got %v, want %v", err, tt.code)
			}
		})
	}
	t.Run("stream without token", func(t *testing.T) {
		s, err := c.CheckAccessBatch(withToken(""))
		if err == nil {
			_, err = s.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("got %v, want Unauthenticated", err)
		}
	})
	t.Run("health needs no token", func(t *testing.T) {
		r, err := healthpb.NewHealthClient(cc).Check(withToken(""), &healthpb.HealthCheckRequest{})
		if err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health: %v %v", r, err)
		}
	})
}

func TestParseTokensErrors(t *testing.T) {
	for _, file := range []string{
		"",
		"# only comments\n",
		"short reader someone\n",
		readerToken + " superuser someone\n",
		readerToken + " reader\n",
		readerToken + " reader a\n" + readerToken + " admin b\n",
	} {
		if _, err := server.ParseTokens(strings.NewReader(file)); err == nil {
			t.Errorf("ParseTokens(%q): no error", file)
		} else if strings.Contains(err.Error(), readerToken) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}
