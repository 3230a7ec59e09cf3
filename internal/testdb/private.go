package testdb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Private is a PostgreSQL server of the test's own, in a temporary folder on a free port,
// for tests that stop and start the database. The shared server at 5432 is never stopped.
type Private struct {
	t    testing.TB
	bin  string
	dir  string
	Port int
}

// StartPrivate initialises and starts a private server, removed when t ends. PostgreSQL
// refuses to run as root, so as root it runs as the postgres user.
func StartPrivate(t testing.TB) *Private {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("testdb: no initdb under /usr/lib/postgresql/*/bin (install postgresql)")
	}
	slices.Sort(bins)
	p := &Private{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: OwnedTempDir(t), Port: FreePort(t)}
	p.run("initdb", "-D", p.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	// Before Start: a start that fails its wait may still leave a server running.
	t.Cleanup(p.stopIfRunning)
	p.Start()
	return p
}

// stopIfRunning stops the server unless the test left it stopped (pg_ctl status: 3).
func (p *Private) stopIfRunning() {
	status := AsPostgres(filepath.Join(p.bin, "pg_ctl"), "-D", p.dir, "status")
	var exit *exec.ExitError
	if err := status.Run(); errors.As(err, &exit) && exit.ExitCode() == 3 {
		return
	}
	p.pgctl("stop", "-w", "-m", "immediate")
}

// URL is the address of database on the private server.
func (p *Private) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, database)
}

// CreateDatabase creates an empty database on the private server.
func (p *Private) CreateDatabase(name string) {
	p.t.Helper()
	conn, err := pgx.Connect(context.Background(), p.URL("postgres"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		p.t.Fatal(err)
	}
}

// Start starts the (stopped) server and waits until it accepts connections.
func (p *Private) Start() {
	p.t.Helper()
	p.start()
}

// StartInRecovery starts the (stopped) server as a standby with no primary and hot_standby
// off: until Promote, it refuses every connection with SQLSTATE 57P03, as a server that is
// starting up does, however long the test takes.
func (p *Private) StartInRecovery() {
	p.t.Helper()
	if out, err := AsPostgres("touch", filepath.Join(p.dir, "standby.signal")).CombinedOutput(); err != nil {
		p.t.Fatalf("testdb: standby.signal: %v\n%s", err, out)
	}
	p.start("-c hot_standby=off")
}

// Promote ends the recovery StartInRecovery began and waits until the server accepts
// connections.
func (p *Private) Promote() {
	p.t.Helper()
	p.pgctl("promote", "-w")
}

func (p *Private) start(options ...string) {
	p.t.Helper()
	p.pgctl("start", "-w", "-l", filepath.Join(p.dir, "server.log"), "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off %s", p.Port, p.dir, strings.Join(options, " ")))
}

// AddPasswordRole creates a role that logs in over TCP only with its password (SCRAM), where
// the server trusts every other role, and restarts the server to apply that at once.
func (p *Private) AddPasswordRole(name, password string) {
	p.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var create string
	if err := conn.QueryRow(ctx, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", name, password).Scan(&create); err != nil {
		p.t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		p.t.Fatal(err)
	}
	// pg_hba.conf's first matching line wins.
	hba := filepath.Join(p.dir, "pg_hba.conf")
	rules, err := os.ReadFile(hba)
	if err != nil {
		p.t.Fatal(err)
	}
	rule := fmt.Sprintf("host all %s 127.0.0.1/32 scram-sha-256\n", name)
	if err := os.WriteFile(hba, append([]byte(rule), rules...), 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.Stop()
	p.Start()
}

// Stop kills the server at once, as a crash or a Neon compute suspending would.
func (p *Private) Stop() {
	p.t.Helper()
	p.pgctl("stop", "-w", "-m", "immediate")
}

func (p *Private) pgctl(args ...string) {
	p.run("pg_ctl", append([]string{"-D", p.dir}, args...)...)
}

func (p *Private) run(name string, args ...string) {
	p.t.Helper()
	cmd := AsPostgres(filepath.Join(p.bin, name), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("testdb: %s %v: %v\n%s", name, args, err, out)
	}
}

// AsPostgres is a command that runs as the postgres user when the tests run as root (as
// PostgreSQL and PgBouncer insist), and as the current user otherwise.
func AsPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// OwnedTempDir is a temporary folder, removed when t ends, that the postgres user can write
// (t.TempDir's folders are private to the test's own user).
func OwnedTempDir(t testing.TB) string {
	t.Helper()
	dir, err := MkdirTemp(ServerDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitFor polls check every 50 ms until it returns nil or timeout passes.
func WaitFor(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
