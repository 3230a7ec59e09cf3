// Package e2e holds the end-to-end tests that need Node: a real Better Auth server, the
// generated TypeScript client, Swagger UI in Chromium and the spec lint. Each drives the real
// taskapi binary. `go tool task test` installs the Node packages (npm ci, from lockfiles) and
// sets TASKAPI_E2E=1; a bare `go test ./...` skips these tests and says so.
package e2e

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// requireNode skips the test unless the end-to-end run was asked for, and fails it when the
// Node packages of dir (relative to the repository root) are not installed.
func requireNode(t *testing.T, dir string) string {
	t.Helper()
	if os.Getenv("TASKAPI_E2E") == "" {
		t.Skip("Node end-to-end test: run `go tool task test` (or set TASKAPI_E2E=1 after npm ci in " + dir + ")")
	}
	abs, err := filepath.Abs(filepath.Join("..", dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "node_modules")); err != nil {
		t.Fatalf("%s has no node_modules: run `npm ci` there (go tool task test does)", dir)
	}
	return abs
}

// betterAuth is a real Better Auth server (e2e/betterauth/server.mjs) with its jwt plugin.
type betterAuth struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startBetterAuth starts Better Auth signing with alg on port ("0": any free port) and waits for
// its ready line. Its store is in memory, so every start has new users and a new key.
func startBetterAuth(t *testing.T, alg, port string) *betterAuth {
	t.Helper()
	dir := requireNode(t, "e2e/betterauth")
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT="+port, "JWT_ALG="+alg)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &betterAuth{cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			var line struct {
				Ready bool
				URL   string
			}
			if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Ready {
				ready <- line.URL
			}
		}
		cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.stop)
	select {
	case b.URL = <-ready:
		return b
	case <-b.done:
		t.Fatal("Better Auth exited before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("Better Auth not ready after 30s")
	}
	return nil
}

func (b *betterAuth) stop() {
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
	}
}

func (b *betterAuth) port() string {
	u, err := url.Parse(b.URL)
	if err != nil {
		panic(err) // the ready line is ours
	}
	return u.Port()
}
