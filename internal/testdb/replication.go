package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartReplicated starts a private primary set up for streaming replication and a hot standby
// of it, each in its own temporary folder (ServerDirPrefix) on its own free port, both removed
// when t ends: the standby is a pg_basebackup -R -X stream copy of the primary, following it
// from then on, as a production read replica does. Databases created on the primary appear on
// the standby once replayed (CatchUp waits for that).
func StartReplicated(t testing.TB) (primary, standby *Private) {
	t.Helper()
	primary = StartPrivate(t)
	// initdb's defaults already allow this (wal_level replica, ten WAL senders, replication
	// trusted from 127.0.0.1); said here so that a change of defaults cannot break the copy.
	primary.appendConfig("postgresql.conf", "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n")
	primary.appendConfig("pg_hba.conf", "host replication all 127.0.0.1/32 trust\n")
	primary.Stop()
	primary.Start()

	standby = &Private{t: t, bin: primary.bin, dir: OwnedTempDir(t), Port: FreePort(t)}
	// -R writes standby.signal and primary_conninfo (the primary's port) into the copy.
	primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", fmt.Sprint(primary.Port), "-U", "postgres",
		"-D", standby.dir, "-R", "-X", "stream", "-c", "fast", "--no-sync")
	// Registered after the primary's, so run before it: the standby stops first.
	t.Cleanup(standby.stopIfRunning)
	standby.Start()
	return primary, standby
}

// appendConfig adds lines to one of the server's configuration files (read at its next start).
func (p *Private) appendConfig(file, lines string) {
	p.t.Helper()
	f, err := os.OpenFile(filepath.Join(p.dir, file), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(lines)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		p.t.Fatalf("testdb: %s: %v", file, err)
	}
}

// CatchUp waits until standby has replayed everything primary has written so far (a database
// just created and migrated on the primary, say), for up to 30 seconds.
func CatchUp(t testing.TB, primary, standby *Private) {
	t.Helper()
	ctx := context.Background()
	p, err := pgx.Connect(ctx, primary.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	var written string
	if err := p.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&written); err != nil {
		t.Fatal(err)
	}
	s, err := pgx.Connect(ctx, standby.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := WaitFor(30*time.Second, func() error {
		var caughtUp bool
		if err := s.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", written).Scan(&caughtUp); err != nil {
			return err
		}
		if !caughtUp {
			return fmt.Errorf("the standby has not replayed up to %s", written)
		}
		return nil
	}); err != nil {
		t.Fatalf("testdb: %v", err)
	}
}

// Migrate applies the migrations to the database at url (on a private server: New's
// databases come migrated).
func Migrate(t testing.TB, url string) {
	t.Helper()
	if err := migrate(context.Background(), url); err != nil {
		t.Fatalf("testdb: migrating: %v", err)
	}
}
