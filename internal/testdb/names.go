package testdb

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The names of everything tests make outside their own process, in one place: the helpers
// here (and apitest's) make them, and Leftovers looks for them when the suite ends. Most carry
// the id of the test process that made them (its owner), so that the check can tell what a
// running test process still uses (another worktree's run, say) from what a finished one left.
const (
	// DatabasePrefix begins the name of every database a test creates on the test server.
	DatabasePrefix = "taskapi_test_"
	// TemplatePrefix begins the name of the migrated template databases that tests copy, one
	// per version of the migrations; only the current one stays between runs.
	TemplatePrefix = "taskapi_template_"
	// BuildingSuffix ends a template's name while it is migrated; it is renamed when complete.
	BuildingSuffix = "_building"
	// RolePrefix begins the name of any role a test creates.
	RolePrefix = "taskapi_test"
	// ServerDirPrefix begins the name of the temporary folders of OwnedTempDir: the data of
	// private PostgreSQL servers and PgBouncer's configuration.
	ServerDirPrefix = "taskapi-pg-"
	// BinaryDirPrefix begins the name of the temporary folder apitest builds taskapi into.
	BinaryDirPrefix = "taskapi-bin-"
)

// DatabaseName is a new database name, unique and owned by this process.
func DatabaseName() string {
	return DatabasePrefix + strconv.Itoa(os.Getpid()) + "_" + strings.ToLower(rand.Text()[:16])
}

// MkdirTemp creates a new temporary folder named prefix (ServerDirPrefix or BinaryDirPrefix),
// then this process's id as its owner, then a random part.
func MkdirTemp(prefix string) (string, error) {
	return os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-")
}

// owner is the process id at the start of rest (a name after its prefix), ended by sep; 0
// when there is none.
func owner(rest, sep string) int {
	digits, _, found := strings.Cut(rest, sep)
	pid, err := strconv.Atoi(digits)
	if !found || err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// testProcessRunning reports whether pid is a running Go test binary (named *.test). What a
// test process made while it runs is in use; once it has exited, what remains is left over.
func testProcessRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return err == nil && strings.HasSuffix(filepath.Base(string(argv0)), ".test")
}
