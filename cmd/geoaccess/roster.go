package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/data/pg"
)

func init() {
	register("roster", "load rosters into PostgreSQL; list, show, diff, export, roll back, retire versions", runRoster)
}

const rosterUsage = `usage:
  geoaccess roster load FILE.csv [--db URL] [--max-bad-rows N] [--source NAME] [--max-shrink 20%] [--force] [--keep N] [--json]
  geoaccess roster list [--db URL] [--limit N] [--json]
  geoaccess roster show V [--db URL] [--json]
  geoaccess roster diff V1 V2 [--db URL] [--move-miles MI] [--rows N] [--json]
  geoaccess roster export V [--db URL] [--out FILE]
  geoaccess roster rollback V [--db URL] [--max-shrink 20%] [--force]
  geoaccess roster retire --keep N [--db URL] [--json]

V is a version id (42 or pg:42) or "current". FILE "-" reads standard input.
--db defaults to $DATABASE_URL. The CSV format is in docs/roster-csv.md,
the database in docs/roster-db.md.`

// runRoster runs a roster subcommand; each is in its own file,
// roster_<subcommand>.go, and this one keeps what they share.
func runRoster(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, rosterUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: roster needs a subcommand", errUsage)
		}
		return nil
	}
	sub := map[string]func([]string, io.Writer, io.Writer) error{
		"load": rosterLoad, "list": rosterList, "show": rosterShow, "diff": rosterDiff,
		"rollback": rosterRollback, "retire": rosterRetire, "export": rosterExport,
	}[args[0]]
	if sub == nil {
		return fmt.Errorf("%w: unknown roster subcommand %q", errUsage, args[0])
	}
	return sub(args[1:], stdout, stderr)
}

// parseWithArgs parses flags given before, between or after the
// positional arguments (the flag package stops at the first positional
// one) and wants exactly n positional arguments.
func parseWithArgs(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != n {
		fs.Usage()
		return nil, fmt.Errorf("%w: want %s, got %d argument(s)", errUsage, what, len(pos))
	}
	return pos, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime) + " UTC"
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

// resolveVersion resolves V: an id, pg:ID or "current".
func resolveVersion(ctx context.Context, pool *pgxpool.Pool, s string) (int64, error) {
	if strings.EqualFold(s, "current") {
		v, err := pg.CurrentVersion(ctx, pool)
		if err != nil {
			return 0, err
		}
		return v.ID, nil
	}
	id, err := pg.ParseVersion(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %v (or current)", errUsage, err)
	}
	return id, nil
}
