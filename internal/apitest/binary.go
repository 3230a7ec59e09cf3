package apitest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"taskapi/internal/testdb"
)

var (
	mainRuns   bool // Main is running the package's tests
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

// Main runs the tests of a package that uses Binary or StartBinary, then removes the binary
// they shared (no single test owns it, so no test's cleanup can). Call it from the package's
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }
func Main(m *testing.M) int {
	mainRuns = true
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	return code
}

// Binary builds cmd/taskapi once per test process, into a temporary folder (named as
// testdb.BinaryDirPrefix says) that Main removes when the tests end, and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	if !mainRuns {
		t.Fatal("apitest: the taskapi binary is removed by apitest.Main: add func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) } to this package")
	}
	binaryOnce.Do(func() {
		binaryDir, binaryErr = testdb.MkdirTemp(testdb.BinaryDirPrefix)
		if binaryErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "taskapi")
		if out, err := exec.Command("go", "build", "-o", binaryPath, "taskapi/cmd/taskapi").CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatalf("building taskapi: %v", binaryErr)
	}
	return binaryPath
}

// Process is the real taskapi binary running for a test.
type Process struct {
	Cmd     *exec.Cmd
	BaseURL string
	Logs    *LogBuffer
	// Exited is closed once the process has exited and Cmd.ProcessState is set.
	Exited <-chan struct{}
}

// StartBinary runs the taskapi binary with env added to the test's environment (ADDR is
// chosen here), waits for /healthz, and stops it (SIGTERM) when t ends.
func StartBinary(t testing.TB, env ...string) *Process {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &Process{Cmd: exec.Command(Binary(t)), BaseURL: "http://" + addr, Logs: &LogBuffer{}}
	p.Cmd.Env = append(append(os.Environ(), env...), "ADDR="+addr)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Logs, p.Logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p.Exited = exited
	go func() { p.Cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			p.Cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(p.BaseURL + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-exited:
			t.Fatalf("taskapi exited before serving:\n%s", p.Logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("taskapi not serving after 30s:\n%s", p.Logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
