package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// Role is what a bearer token may do.
type Role uint8

// Roles. An auditor may do everything a reader may, and an admin
// everything an auditor may.
const (
	RoleReader Role = iota + 1 // every query RPC
	RoleAdmin                  // also replays and the admin RPCs (AdminMethods)
	// RoleAuditor: also replays — decisions against a past roster,
	// profile or plans version (CheckAccess and EvaluateNegotiation with
	// roster_version, profile_version or plans_version) — but no admin
	// RPC.
	RoleAuditor
)

func (r Role) String() string {
	switch r {
	case RoleReader:
		return "reader"
	case RoleAuditor:
		return "auditor"
	case RoleAdmin:
		return "admin"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// AdminMethods are the full method names only the admin role may call:
// the roster administration RPCs. GetRosterDiff is admin too: it lists
// roster rows (names, addresses, contract status) that query clients have
// no need for.
var AdminMethods = map[string]bool{
	pb.AdequacyService_ReloadRoster_FullMethodName:  true,
	pb.AdequacyService_GetRosterDiff_FullMethodName: true,
}

// publicPrefixes are services callable without a token: load balancers and
// orchestrators probe health without credentials.
var publicPrefixes = []string{"/grpc.health.v1.Health/"}

// Principal is the holder of a bearer token.
type Principal struct {
	Name string
	Role Role
}

// Tokens are the accepted bearer tokens, kept only as SHA-256 digests so
// that a lookup's timing says nothing about a token's characters.
type Tokens struct {
	byDigest map[[32]byte]Principal
}

// minTokenLen refuses guessable tokens.
const minTokenLen = 16

// LoadTokens reads a token file: one "token role name" per line, roles
// reader, auditor and admin; blank lines and lines starting with # are
// skipped.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth tokens: %w", err)
	}
	defer f.Close()
	t, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("auth tokens %s: %w", path, err)
	}
	return t, nil
}

// ParseTokens parses the token file format (see LoadTokens).
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{byDigest: map[[32]byte]Principal{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		p, tok, err := parseTokenLine(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err) // never echo the token
		}
		dg := sha256.Sum256([]byte(tok))
		if _, dup := t.byDigest[dg]; dup {
			return nil, fmt.Errorf("line %d: the token of %s appears twice", line, p.Name)
		}
		t.byDigest[dg] = p
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.byDigest) == 0 {
		return nil, fmt.Errorf("no tokens: every call would be refused")
	}
	return t, nil
}

func parseTokenLine(s string) (Principal, string, error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return Principal{}, "", fmt.Errorf("want \"token role name\", got %d fields", len(f))
	}
	if len(f[0]) < minTokenLen {
		return Principal{}, "", fmt.Errorf("token of %s is shorter than %d characters", f[2], minTokenLen)
	}
	var role Role
	switch f[1] {
	case "reader":
		role = RoleReader
	case "auditor":
		role = RoleAuditor
	case "admin":
		role = RoleAdmin
	default:
		return Principal{}, "", fmt.Errorf("role %q must be reader, auditor or admin", adequacy.ExcerptN(f[1], 32))
	}
	return Principal{Name: f[2], Role: role}, f[0], nil
}

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.byDigest) }

// authorize checks the call's bearer token against the method: missing or
// unknown → UNAUTHENTICATED; a reader calling an admin method →
// PERMISSION_DENIED.
func (t *Tokens) authorize(ctx context.Context, method string, admin map[string]bool) (Principal, error) {
	for _, p := range publicPrefixes {
		if strings.HasPrefix(method, p) {
			return Principal{}, nil
		}
	}
	tok, err := bearer(ctx)
	if err != nil {
		return Principal{}, err
	}
	p, ok := t.byDigest[sha256.Sum256([]byte(tok))]
	if !ok {
		return Principal{}, status.Error(codes.Unauthenticated, "unknown bearer token")
	}
	if (admin[method] || AdminMethods[method]) && p.Role != RoleAdmin {
		return p, status.Errorf(codes.PermissionDenied, "%s needs the admin role; the token of %s is %s", method, p.Name, p.Role)
	}
	return p, nil
}

func bearer(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", status.Error(codes.Unauthenticated, "missing bearer token: send the header \"authorization: Bearer TOKEN\"")
	}
	if len(vals) > 1 {
		return "", status.Error(codes.Unauthenticated, "more than one authorization header")
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
		return "", status.Error(codes.Unauthenticated, "authorization must be \"Bearer TOKEN\"")
	}
	return strings.TrimSpace(tok), nil
}
