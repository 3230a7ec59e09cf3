package main

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

// serveFails runs `taskapi serve` (the binary, as a user would) with env added and a 30s
// DB_CONNECT_TIMEOUT, checks that it exits 1 within a few seconds, where retrying would take
// the 30s, and returns what it printed.
func serveFails(t *testing.T, env ...string) string {
	t.Helper()
	// Bounded in case it serves after all.
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, apitest.Binary(t), "serve")
	cmd.Env = append(os.Environ(), "BETTER_AUTH_SECRET="+secret, "ADDR=127.0.0.1:0", "DB_CONNECT_TIMEOUT=30s")
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if exit, ok := errors.AsType[*exec.ExitError](err); !ok || exit.ExitCode() != 1 {
		t.Fatalf("taskapi serve: %v, want exit status 1\n%s", err, out)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("taskapi serve took %s to give up, want a few seconds at most", elapsed)
	}
	if strings.Contains(string(out), "database not reachable yet") {
		t.Errorf("a failure that retrying cannot fix was retried:\n%s", out)
	}
	return string(out)
}

// A database setting that is wrong stops the service at once with a message that names the
// cause and the variable to fix, never the password; only failures that may pass (a server
// starting, a network failing; see TestStartupWaitsForTheDatabase) are retried.
func TestServeStopsAtOnceOnAWrongDatabaseSetting(t *testing.T) {
	missing := "taskapi_test_missing_" + strings.ToLower(rand.Text()[:8]) // never created
	noRole, err := url.Parse(testdb.ServerURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	noRole.User = url.User("taskapi_no_such_role")

	pg := testdb.StartPrivate(t)
	pg.AddPasswordRole("alice", "correct-horse-battery")
	wrongPassword, err := url.Parse(pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	wrongPassword.User = url.UserPassword("alice", "wrong-staple-1234")

	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{name: "missing database (3D000)", env: []string{"DATABASE_URL=" + testdb.ServerURL(missing)},
			want: []string{`taskapi: database "` + missing + `" does not exist`, "check the database name in DATABASE_URL"}},
		{name: "missing role (28000)", env: []string{"DATABASE_URL=" + noRole.String()},
			want: []string{`taskapi: role "taskapi_no_such_role" does not exist`, "check the user (and sslmode) in DATABASE_URL"}},
		{name: "wrong password (28P01)", env: []string{"DATABASE_URL=" + wrongPassword.String()},
			want: []string{`taskapi: password authentication failed for user "alice"`, "check the password in DATABASE_URL"}},
		{name: "migrations' missing database", env: []string{"DATABASE_URL=" + testdb.URL(t), "MIGRATION_DATABASE_URL=" + testdb.ServerURL(missing)},
			want: []string{`taskapi: migrations' database: database "` + missing + `" does not exist`, "check the database name in MIGRATION_DATABASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := serveFails(t, tc.env...)
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("the error lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "wrong-staple-1234") || strings.Contains(out, "correct-horse-battery") {
				t.Errorf("the output holds a password:\n%s", out)
			}
		})
	}
}
