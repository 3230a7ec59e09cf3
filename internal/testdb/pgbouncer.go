package testdb

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StartPgBouncer runs a real PgBouncer in transaction mode (Neon's pooler is one) in front of
// databaseURL's server, stopped when t ends, and returns the URL of that database through it:
// postgres@127.0.0.1:<port>/taskapi, a host without Neon's -pooler in its name.
//
// Its settings are PgBouncer's stock ones but for the mode, the addresses and trust
// authentication: in particular no ignore_startup_parameters, so, as a fresh install does, it
// refuses every startup parameter it cannot keep (statement_timeout among them).
func StartPgBouncer(t testing.TB, databaseURL string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		t.Fatal("testdb: pgbouncer is not installed (apt-get install pgbouncer)")
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := OwnedTempDir(t)
	port := FreePort(t)
	config := fmt.Sprintf(`[databases]
taskapi = host=%s port=%s dbname=%s user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
auth_type = trust
auth_file = %s/users.txt
pool_mode = transaction
default_pool_size = 3
max_client_conn = 200
logfile = %s/pgbouncer.log
`, u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), port, dir, dir, dir)
	for name, content := range map[string]string{"pgbouncer.ini": config, "users.txt": `"postgres" ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := AsPostgres(bin, filepath.Join(dir, "pgbouncer.ini"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }) // SIGINT would wait for clients
	if err := WaitFor(10*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
		t.Fatalf("testdb: pgbouncer did not start: %v\n%s", err, log)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/taskapi?sslmode=disable", port)
}
