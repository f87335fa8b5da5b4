package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

func init() {
	register("check-batch", "check a member file against a running geoaccessd (one CheckAccessBatch stream): a CSV row per member and discipline", runCheckBatch)
}

// checkBatchHeader is the answer file's header: one row per member and
// discipline, or one per member whose row or item was refused.
var checkBatchHeader = []string{"member_id", "line", "discipline", "status", "served", "county_fips", "county_type",
	"providers_within", "providers_required", "max_miles", "max_minutes", "nearest_npi", "nearest_miles", "nearest_minutes",
	"profile", "profile_version", "roster_version", "error"}

func runCheckBatch(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("server", "", "geoaccessd's gRPC address, host:port (required)")
	plaintext := fs.Bool("plaintext", false, "connect without TLS (a server on loopback, or behind a mesh that encrypts)")
	caFile := fs.String("ca", "", "PEM file of the CA that signed the server's certificate (default: the system's roots)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token to send, when the server requires one")
	membersPath := fs.String("members", "", "member CSV: member_id, then lat and lon or zip, optionally county_fips; - for standard input (required)")
	discs := fs.String("discipline", "all", "DC, PT, OT, ST, a comma-separated list, or all")
	k := fs.Int("k", 0, "nearest providers per decision, 0 to 50 (0: the server's default, 5)")
	asOf := fs.String("as-of", "", "decide as of this date, YYYY-MM-DD (default: the server's today)")
	profile := fs.String("profile", "", "standards profile (default: the server's, or the plan's)")
	plan := fs.String("plan", "", "the members' plan: only its networks count, under its profile")
	service := fs.String("service", "", "a service the members need (a vocabulary code): only providers offering it count")
	out := fs.String("out", "-", "write the answers here (replaced whole, or left as it was on failure); - for standard output")
	discard := fs.Bool("discard", false, "read the answers and write none, only the summary: to measure a server")
	repeat := fs.Int("repeat", 1, "send the file this many times on the one stream (to measure a server); every pass is answered and written")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: no limit)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: check-batch takes no arguments (got %q)", errUsage, fs.Arg(0))
	case *addr == "":
		return fmt.Errorf("%w: --server is required", errUsage)
	case *membersPath == "":
		return fmt.Errorf("%w: --members is required", errUsage)
	case *repeat < 1:
		return fmt.Errorf("%w: --repeat must be at least 1", errUsage)
	case *k < 0 || *k > 50:
		return fmt.Errorf("%w: --k must be 0 to 50", errUsage)
	case *plaintext && *caFile != "":
		return fmt.Errorf("%w: --plaintext and --ca contradict each other", errUsage)
	}
	ds, err := parseDisciplines(*discs)
	if err != nil {
		return err
	}
	disciplines := make([]pb.Discipline, len(ds))
	for i, d := range ds {
		disciplines[i] = pb.Discipline(pb.Discipline_value["DISCIPLINE_"+d.String()])
	}
	creds, err := clientCredentials(*plaintext, *caFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if *tokenFile != "" {
		tok, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("check-batch: token: %w", err)
		}
		if t := strings.TrimSpace(string(tok)); t != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+t)
		}
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	members, rejected, err := readMemberFile(*membersPath)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		if len(rejected) == 0 {
			return fmt.Errorf("check-batch: members %s: %w", *membersPath, adequacy.ErrNoMembers)
		}
		r := rejected[0] // line, column and reason: never the value, which may be a member's place
		return fmt.Errorf("check-batch: members %s: %w: all %d rows rejected, the first at line %d, column %q: %s",
			*membersPath, adequacy.ErrNoMembers, len(rejected), r.Line, r.Column, r.Reason)
	}
	cc, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return fmt.Errorf("check-batch: %w", err)
	}
	defer cc.Close()
	cb := &checkBatch{client: pb.NewAdequacyServiceClient(cc), members: members, rejected: rejected, repeat: *repeat,
		template: pb.CheckAccessBatchRequest{Disciplines: disciplines, K: int32(*k), AsOf: *asOf, Profile: *profile, Plan: *plan, Service: *service}}
	switch {
	case *discard:
		err = cb.run(ctx, nil)
	case *out == "-":
		err = cb.run(ctx, stdout)
	default:
		err = writeFileAtomic(*out, func(w io.Writer) error { return cb.run(ctx, w) })
	}
	if err != nil {
		return fmt.Errorf("check-batch: %w", err)
	}
	cb.summary(stderr)
	return nil
}

// clientCredentials is TLS with the system's roots or the given CA, or
// none with plaintext.
func clientCredentials(plaintext bool, caFile string) (credentials.TransportCredentials, error) {
	if plaintext {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("check-batch: --ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("check-batch: --ca %s: no PEM certificate in it", caFile)
		}
	}
	return credentials.NewTLS(cfg), nil
}

func readMemberFile(path string) ([]adequacy.GapMember, []data.RowError, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("check-batch: members: %w", err)
		}
		defer f.Close()
		r = f
	}
	ms, bad, err := data.ReadMembers(r, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("check-batch: members %s: %w", path, err)
	}
	return ms, bad, nil
}

// checkBatch is one run: the members, sent on one stream repeat times,
// and the tallies of the answers.
type checkBatch struct {
	client   pb.AdequacyServiceClient
	members  []adequacy.GapMember
	rejected []data.RowError
	repeat   int
	template pb.CheckAccessBatchRequest

	elapsed                               time.Duration
	decisions, served, notServed, refused int
}

// run streams the members and writes a row per answer to w as answers
// arrive (nil: tally only). An item's member_ref is its position in the
// file, so no member ID leaves this process.
func (cb *checkBatch) run(ctx context.Context, w io.Writer) error {
	var cw *csvsafe.Writer
	if w != nil {
		cw = csvsafe.NewWriter(w)
		if err := cw.WriteText(checkBatchHeader...); err != nil {
			return err
		}
		for _, r := range cb.rejected {
			reason := r.Reason
			if r.Column != "" {
				reason = "column " + r.Column + ": " + reason
			}
			if err := writeRefused(cw, r.Key, r.Line, "rejected", reason); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	stream, err := cb.client.CheckAccessBatch(ctx)
	if err != nil {
		return fmt.Errorf("open the stream: %w", err)
	}
	sent := make(chan error, 1)
	go func() { sent <- cb.send(stream) }()
	want := len(cb.members) * cb.repeat
	got := 0
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			cancel()
			<-sent
			return fmt.Errorf("after %d of %d answers: %w", got, want, err)
		}
		i, perr := strconv.Atoi(a.GetMemberRef())
		if perr != nil || i < 0 || i >= len(cb.members) {
			cancel()
			<-sent
			return fmt.Errorf("the server answered an item that was not sent (reference %.20q)", a.GetMemberRef())
		}
		got++
		if err := cb.record(cw, &cb.members[i], a); err != nil {
			cancel()
			<-sent
			return err
		}
	}
	if err := <-sent; err != nil {
		return err
	}
	cb.elapsed = time.Since(start)
	if got != want {
		return fmt.Errorf("the stream ended after %d of %d answers", got, want)
	}
	if cw != nil {
		return cw.Flush()
	}
	return nil
}

func (cb *checkBatch) send(stream pb.AdequacyService_CheckAccessBatchClient) error {
	for range cb.repeat {
		for i := range cb.members {
			m := &cb.members[i]
			req := &pb.CheckAccessBatchRequest{MemberRef: strconv.Itoa(i), Zip: m.ZIP, CountyFips: m.CountyFIPS,
				Disciplines: cb.template.Disciplines, K: cb.template.K, AsOf: cb.template.AsOf, Profile: cb.template.Profile,
				Plan: cb.template.Plan, Service: cb.template.Service}
			if m.HasPoint {
				req.Location = &pb.LatLng{Latitude: m.Point.Lat, Longitude: m.Point.Lon}
			}
			if err := stream.Send(req); err != nil {
				if err == io.EOF { // the server ended the stream: Recv has its status
					return nil
				}
				return fmt.Errorf("send: %w", err)
			}
		}
	}
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("close the stream: %w", err)
	}
	return nil
}

// record tallies an answer and writes its rows.
func (cb *checkBatch) record(cw *csvsafe.Writer, m *adequacy.GapMember, a *pb.CheckAccessBatchResponse) error {
	if st := a.GetError(); st != nil {
		cb.refused++
		if cw == nil {
			return nil
		}
		msg := st.GetMessage()
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return writeRefused(cw, m.ID, m.Line, "error", msg)
	}
	res := a.GetResult()
	for _, d := range res.GetDecisions() {
		cb.decisions++
		if d.GetServed() {
			cb.served++
		} else if d.GetStatus() == pb.AccessStatus_ACCESS_STATUS_NOT_SERVED {
			cb.notServed++
		}
		if cw == nil {
			continue
		}
		var npi, miles, minutes csvsafe.Cell = csvsafe.Text(""), csvsafe.Text(""), csvsafe.Text("")
		if n := d.GetNearest(); len(n) > 0 {
			npi, miles, minutes = csvsafe.Text(n[0].GetNpi()), csvsafe.Float(n[0].GetMiles(), 3), csvsafe.Float(n[0].GetMinutes(), 1)
		}
		r := d.GetRule()
		if err := cw.Write(csvsafe.Text(m.ID), csvsafe.Int(m.Line), csvsafe.Text(strings.TrimPrefix(d.GetDiscipline().String(), "DISCIPLINE_")),
			csvsafe.Text(strings.ToLower(strings.TrimPrefix(d.GetStatus().String(), "ACCESS_STATUS_"))), csvsafe.Text(strconv.FormatBool(d.GetServed())),
			csvsafe.Text(d.GetCounty().GetFips()), csvsafe.Text(strings.TrimPrefix(d.GetCounty().GetType().String(), "COUNTY_TYPE_")),
			csvsafe.Int(int(d.GetProvidersWithin())), csvsafe.Int(int(r.GetProvidersRequired())),
			csvsafe.Float(r.GetMaxMiles(), 1), csvsafe.Float(r.GetMaxMinutes(), 1), npi, miles, minutes,
			csvsafe.Text(res.GetProfile()), csvsafe.Text(res.GetProfileVersion()), csvsafe.Text(res.GetRosterVersion()), csvsafe.Text("")); err != nil {
			return err
		}
	}
	return nil
}

// writeRefused writes the row of a member the file or the server refused:
// its ID, line, status and why, the other columns empty.
func writeRefused(cw *csvsafe.Writer, id string, line int, status, why string) error {
	cells := make([]csvsafe.Cell, len(checkBatchHeader))
	for i := range cells {
		cells[i] = csvsafe.Text("")
	}
	cells[0], cells[1], cells[3], cells[len(cells)-1] = csvsafe.Text(id), csvsafe.Int(line), csvsafe.Text(status), csvsafe.Text(why)
	return cw.Write(cells...)
}

// summary prints counts and the rate: never a member's ID or place.
func (cb *checkBatch) summary(w io.Writer) {
	items := len(cb.members) * cb.repeat
	secs := cb.elapsed.Seconds()
	fmt.Fprintf(w, "check-batch: %d members (%d rows rejected), %d items answered: %d decisions (%d served, %d not served, %d other), %d items refused\n",
		len(cb.members), len(cb.rejected), items, cb.decisions, cb.served, cb.notServed, cb.decisions-cb.served-cb.notServed, cb.refused)
	if secs > 0 {
		fmt.Fprintf(w, "check-batch: %.2f s on one stream: %.0f members/s, %.0f member-disciplines/s\n", secs, float64(items)/secs, float64(cb.decisions)/secs)
	}
}
