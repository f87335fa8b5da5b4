// Command geoaccess is the geo-access command line: check a member's
// access, run gap reports, import standards, load and inspect rosters and
// plans.
//
//	geoaccess check --lat 40.75 --lon -73.99 --discipline PT
//	geoaccess standards import-hsd FILE.xlsx --out table.csv
//	geoaccess hsd export --roster roster.csv --members members.csv --out hsd/
//	geoaccess exceptions --members m.csv --roster r.csv --candidates c.csv --out x/
//	geoaccess sample roster --states NY,TX --count 3000
//
// Run "geoaccess help COMMAND" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary, run}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks an error the user fixes by changing the command line.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return exit(c.run([]string{"-h"}, stdout, stderr), stderr)
			}
		}
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "geoaccess: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return exit(c.run(args[1:], stdout, stderr), stderr)
}

func exit(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "geoaccess: %v\n", err)
		return 2
	case errors.Is(err, errLoss):
		fmt.Fprintf(stderr, "geoaccess: %v\n", err)
		return 3
	}
	fmt.Fprintf(stderr, "geoaccess: %v\n", err)
	if undefinedTable(err) {
		fmt.Fprintln(stderr, "geoaccess: the database lacks geoaccess's tables: run \"geoaccess db migrate\" first")
	}
	return 1
}

// undefinedTable reports whether err is PostgreSQL's "relation does not
// exist" (SQLSTATE 42P01): a database never migrated.
func undefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: geoaccess COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun \"geoaccess help COMMAND\" for a command's flags")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: geoaccess %s\n\nflags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and rejects stray arguments.
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > maxArgs {
		return fmt.Errorf("%w: unexpected arguments %s", errUsage, strings.Join(fs.Args()[maxArgs:], " "))
	}
	return nil
}
