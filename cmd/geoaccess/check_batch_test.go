package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/testcert"
)

// batchServer serves the sample roster on a loopback port until the test
// ends, and returns its address and an engine deciding locally on the
// same roster (the oracle).
func batchServer(t *testing.T, tokens *server.Tokens) (string, *adequacy.Engine) {
	return batchServerTLS(t, tokens, nil)
}

// batchServerTLS is batchServer serving TLS when tlsCfg is not nil.
func batchServerTLS(t *testing.T, tokens *server.Tokens, tlsCfg *tls.Config) (string, *adequacy.Engine) {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	roster, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Engine: eng, Tokens: tokens, TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Roster().Load(context.Background(), "sample", func(context.Context) (*adequacy.Roster, error) { return roster, nil }); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Shutdown(5 * time.Second) })
	n, err := eng.NewNetwork(roster)
	if err != nil {
		t.Fatal(err)
	}
	return lis.Addr().String(), eng.WithNetwork(n)
}

// check-batch against a real server over loopback writes, for every
// member and discipline, what the engine decides locally on the same
// roster; bad rows come back with their line and column, a formula-like
// member ID is neutralised, and standard error holds counts only.
func TestCheckBatchMatchesEngine(t *testing.T) {
	addr, oracle := batchServer(t, nil)
	sample, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	members := filepath.Join(dir, "members.csv")
	body := strings.TrimRight(string(sample), "\n") + "\nBADLAT,91,-73.99,,\n=SUM(A1),40.75,-73.99,,\n"
	if err := os.WriteFile(members, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, bad, err := data.ReadMembers(strings.NewReader(body), nil)
	if err != nil || len(bad) != 1 {
		t.Fatalf("the test's member file: %v, %d bad rows", err, len(bad))
	}
	out := filepath.Join(dir, "answers.csv")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check-batch", "--server", addr, "--plaintext", "--members", members, "--out", out, "--as-of", "2026-06-01"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(checkBatchHeader, ",") {
		t.Fatalf("header %v", rows[0])
	}
	rows = rows[1:]
	if want := len(ms)*len(adequacy.Disciplines) + 1; len(rows) != want {
		t.Fatalf("%d rows, want %d (4 per member and 1 rejected)", len(rows), want)
	}
	col := map[string]int{}
	for i, h := range checkBatchHeader {
		col[h] = i
	}
	byID := map[string]adequacy.GapMember{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	asOf, _ := adequacy.ParseDate("2026-06-01")
	seen := map[string]bool{}
	for _, r := range rows {
		get := func(h string) string { return r[col[h]] }
		if get("status") == "rejected" {
			if get("member_id") != "BADLAT" || get("line") != strconv.Itoa(strings.Count(body, "\n")-1) || !strings.Contains(get("error"), "column lat") {
				t.Errorf("rejected row %v: want BADLAT at its line, column lat", r)
			}
			continue
		}
		id := get("member_id")
		if id == "'=SUM(A1)" {
			id = "=SUM(A1)" // neutralised in the file, as every report does
		} else if strings.HasPrefix(id, "=") {
			t.Errorf("member ID %q left live as a formula", id)
		}
		m, ok := byID[id]
		if !ok {
			t.Fatalf("row for unknown member %q", id)
		}
		d, err := adequacy.ParseDiscipline(get("discipline"))
		if err != nil {
			t.Fatal(err)
		}
		key := id + "/" + d.String()
		if seen[key] {
			t.Errorf("%s answered twice", key)
		}
		seen[key] = true
		req := adequacy.Request{Member: adequacy.Member{ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}, Disciplines: []adequacy.Discipline{d}, AsOf: asOf}
		if m.HasPoint {
			p := m.Point
			req.Member.Point = &p
		}
		want, err := oracle.Decide(req)
		if err != nil {
			t.Fatalf("%s: local decision: %v", key, err)
		}
		w := want[0]
		if get("status") != w.Status.String() {
			t.Errorf("%s: status %s, engine %s", key, get("status"), w.Status)
		}
		if get("served") != strconv.FormatBool(w.Served()) || get("county_fips") != w.County.FIPS || get("providers_within") != strconv.Itoa(w.ProvidersWithin) {
			t.Errorf("%s: served %s county %s within %s; engine %v %s %d", key, get("served"), get("county_fips"), get("providers_within"), w.Served(), w.County.FIPS, w.ProvidersWithin)
		}
		if len(w.Nearest) > 0 {
			if get("nearest_npi") != w.Nearest[0].NPI || get("nearest_miles") != strconv.FormatFloat(w.Nearest[0].Miles, 'f', 3, 64) {
				t.Errorf("%s: nearest %s at %s, engine %s at %.3f", key, get("nearest_npi"), get("nearest_miles"), w.Nearest[0].NPI, w.Nearest[0].Miles)
			}
		} else if get("nearest_npi") != "" {
			t.Errorf("%s: nearest %s, engine none", key, get("nearest_npi"))
		}
		if get("roster_version") != w.RosterVersion || w.RosterVersion == "" || get("profile_version") != w.ProfileVersion {
			t.Errorf("%s: versions %s / %s, want %s / %s", key, get("roster_version"), get("profile_version"), w.RosterVersion, w.ProfileVersion)
		}
	}
	// Standard error: counts and rate only, never a member's ID or place.
	msg := stderr.String()
	if !strings.Contains(msg, "member-disciplines/s") || !strings.Contains(msg, "1 rows rejected") {
		t.Errorf("summary: %s", msg)
	}
	for _, m := range ms[:50] {
		if strings.Contains(msg, m.ID) || (m.HasPoint && strings.Contains(msg, strconv.FormatFloat(m.Point.Lat, 'f', -1, 64))) {
			t.Fatalf("standard error names member %s or its place: %s", m.ID, msg)
		}
	}
	if strings.Contains(msg, "BADLAT") || strings.Contains(msg, "91") && strings.Contains(msg, "-73.99") {
		t.Fatalf("standard error echoes a rejected row: %s", msg)
	}
}

// Against a server that requires a token: refused clearly without one,
// answered with --token-file; --discard writes no rows.
func TestCheckBatchToken(t *testing.T) {
	const tok = "check-batch-test-token-0123456789"
	tokens, err := server.ParseTokens(strings.NewReader(tok + " reader planner\n"))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := batchServer(t, tokens)
	dir := t.TempDir()
	members, tokFile := filepath.Join(dir, "m.csv"), filepath.Join(dir, "token")
	os.WriteFile(members, []byte("member_id,lat,lon\nA,40.75,-73.99\nB,64.5,-165.41\n"), 0o644)
	os.WriteFile(tokFile, []byte(tok+"\n"), 0o600)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check-batch", "--server", addr, "--plaintext", "--members", members}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "Unauthenticated") {
		t.Fatalf("without a token: exit %d, %s", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"check-batch", "--server", addr, "--plaintext", "--members", members, "--token-file", tokFile, "--discard", "--repeat", "3", "--discipline", "PT"},
		&stdout, &stderr); code != 0 {
		t.Fatalf("with the token: exit %d, %s", code, stderr.String())
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "6 items answered: 6 decisions") {
		t.Errorf("--discard --repeat 3: stdout %q, stderr %s", stdout.String(), stderr.String())
	}
}

// Usage errors exit 2 before any connection.
func TestCheckBatchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check-batch", "--members", "m.csv"},
		{"check-batch", "--server", "127.0.0.1:1"},
		{"check-batch", "--server", "127.0.0.1:1", "--members", "m.csv", "--repeat", "0"},
		{"check-batch", "--server", "127.0.0.1:1", "--members", "m.csv", "--k", "51"},
		{"check-batch", "--server", "127.0.0.1:1", "--members", "m.csv", "--plaintext", "--ca", "ca.pem"},
		{"check-batch", "--server", "127.0.0.1:1", "--members", "m.csv", "--discipline", "XX"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}

// Items the server refuses (here: an unknown profile) get an error row
// each, with the server's reason, and count as refused.
func TestCheckBatchRefusedItems(t *testing.T) {
	addr, _ := batchServer(t, nil)
	dir := t.TempDir()
	members := filepath.Join(dir, "m.csv")
	os.WriteFile(members, []byte("member_id,lat,lon\nA,40.75,-73.99\nB,64.5,-165.41\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check-batch", "--server", addr, "--plaintext", "--members", members, "--profile", "no-such-profile"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and 2 error rows: %v", len(rows), rows)
	}
	for _, r := range rows[1:] {
		if r[3] != "error" || !strings.Contains(r[len(r)-1], "no-such-profile") {
			t.Errorf("row %v: want status error and the server's reason", r)
		}
	}
	if !strings.Contains(stderr.String(), "2 items refused") {
		t.Errorf("summary: %s", stderr.String())
	}
}

// Over TLS: trusted with --ca, refused with a CA that did not sign the
// server's certificate, and (without --ca) by the system's roots.
func TestCheckBatchTLS(t *testing.T) {
	dir := t.TempDir()
	ca, rogue := testcert.NewCA(t, "geoaccess test CA"), testcert.NewCA(t, "rogue CA")
	cert, key := ca.Issue(t, "geoaccessd", true)
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	caFile, rogueFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "rogue.pem")
	for name, b := range map[string][]byte{certFile: cert, keyFile: key, caFile: ca.PEM, rogueFile: rogue.PEM} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tlsCfg, err := server.TLSConfig(certFile, keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := batchServerTLS(t, nil, tlsCfg)
	members := filepath.Join(dir, "m.csv")
	os.WriteFile(members, []byte("member_id,lat,lon\nA,40.75,-73.99\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check-batch", "--server", addr, "--ca", caFile, "--members", members, "--discipline", "PT"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--ca: exit %d, %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "\nA,2,PT,served,true,") {
		t.Errorf("--ca: answers %q", stdout.String())
	}
	for _, args := range [][]string{{"--ca", rogueFile}, {}, {"--plaintext"}} {
		stdout.Reset()
		stderr.Reset()
		base := []string{"check-batch", "--server", addr, "--members", members, "--discipline", "PT", "--timeout", "5s"}
		if code := run(append(base, args...), &stdout, &stderr); code != 1 {
			t.Errorf("%v: exit %d, want 1 (%s)", args, code, stderr.String())
		}
	}
}
