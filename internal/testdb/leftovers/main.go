// Command leftovers fails when the tests left something behind: a database, template or role
// on the test server (TEST_DATABASE_URL, as the tests use it), a temporary folder, or a
// process (a private PostgreSQL, PgBouncer, taskapi, Node or Chromium). `go tool task test`
// runs it after `go test`; testdb.Leftovers says what it looks for.
//
//	go run ./internal/testdb/leftovers [-root DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"taskapi/internal/testdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "leftovers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("leftovers", flag.ContinueOnError)
	flags.SetOutput(stderr)
	root := flags.String("root", ".", "the repository whose Node end-to-end tests ran")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	report, err := testdb.Leftovers(ctx, *root)
	if err != nil {
		return err
	}
	for _, l := range report.InUse {
		fmt.Fprintf(stdout, "leftovers: in use, not counted: %s (%s)\n", l.What, l.Why)
	}
	for _, l := range report.Left {
		fmt.Fprintf(stdout, "leftovers: LEFT BEHIND: %s (%s); remove it with: %s\n", l.What, l.Why, l.Fix)
	}
	if n := len(report.Left); n > 0 {
		return fmt.Errorf("the tests left %d thing(s) behind (above): every test must remove what it makes", n)
	}
	fmt.Fprintln(stdout, "leftovers: none (test databases, templates, roles, temporary folders, processes)")
	return nil
}
