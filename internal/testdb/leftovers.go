package testdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Leftover is one thing a test made that is still there.
type Leftover struct {
	What string // "database taskapi_test_…", "folder /tmp/taskapi-bin-…", "process 123: …"
	Why  string // why it counts as left behind, or who still uses it
	Fix  string // what removes it: SQL for the test server, a shell command for the rest
}

// Report is what Leftovers found.
type Report struct {
	// Left is what tests made and did not remove.
	Left []Leftover
	// InUse is what running test processes still use (another run's, in another worktree,
	// say): not left behind, not counted.
	InUse []Leftover
}

// Leftovers lists what tests made and did not remove. On the test server (AdminURL): the
// databases named DatabasePrefix…, the templates but the current one (and any half-built
// one), the roles named RolePrefix…. On this machine: the temporary folders named
// ServerDirPrefix… and BinaryDirPrefix…, the processes running from them (private
// PostgreSQL servers, PgBouncer, taskapi), and the Node and Chromium processes working in
// repoRoot (the Node end-to-end tests). What a running test process made is in use instead.
func Leftovers(ctx context.Context, repoRoot string) (Report, error) {
	var r Report
	if err := r.checkServer(ctx); err != nil {
		return r, fmt.Errorf("the test server (%s): %w", redact(AdminURL()), err)
	}
	if err := r.checkFolders(); err != nil {
		return r, err
	}
	if err := r.checkProcesses(repoRoot); err != nil {
		return r, err
	}
	return r, nil
}

// add files l under Left, or under InUse when owner is a running test process.
func (r *Report) add(l Leftover, owner int) {
	switch {
	case testProcessRunning(owner):
		l.Why = fmt.Sprintf("test process %d is running", owner)
		r.InUse = append(r.InUse, l)
	case owner > 0:
		l.Why = fmt.Sprintf("its test process %d has exited", owner)
		r.Left = append(r.Left, l)
	default:
		if l.Why == "" {
			l.Why = "named as tests name theirs, with no test process in its name"
		}
		r.Left = append(r.Left, l)
	}
}

func (r *Report) checkServer(ctx context.Context) error {
	current, err := templateName()
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Under the template lock, no template is being built: a half-built one is left over.
	return withTemplateLock(ctx, conn, func() error {
		rows, _ := conn.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2) ORDER BY datname",
			DatabasePrefix, TemplatePrefix)
		databases, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range databases {
			l := Leftover{What: "database " + name, Fix: "DROP DATABASE " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE);"}
			switch {
			case name == current:
				// The template tests reuse on purpose.
			case strings.HasPrefix(name, DatabasePrefix):
				r.add(l, owner(strings.TrimPrefix(name, DatabasePrefix), "_"))
			case strings.HasSuffix(name, BuildingSuffix):
				l.Why = "a template whose build never finished"
				r.add(l, 0)
			default:
				inUse, err := leased(ctx, conn, name)
				if err != nil {
					return err
				}
				if inUse {
					l.Why = "the template of other migrations, leased by a running test process"
					r.InUse = append(r.InUse, l)
					continue
				}
				l.Why = "the template of other migrations (the current one is " + current + ")"
				r.add(l, 0)
			}
		}
		rows, _ = conn.Query(ctx, "SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname", RolePrefix)
		roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range roles {
			r.add(Leftover{What: "role " + name, Fix: "DROP ROLE " + pgx.Identifier{name}.Sanitize() + ";"}, 0)
		}
		return nil
	})
}

func (r *Report) checkFolders() error {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		for _, prefix := range []string{ServerDirPrefix, BinaryDirPrefix} {
			if rest, ok := strings.CutPrefix(e.Name(), prefix); ok && e.IsDir() {
				path := filepath.Join(os.TempDir(), e.Name())
				r.add(Leftover{What: "folder " + path, Fix: "rm -rf " + path}, owner(rest, "-"))
			}
		}
	}
	return nil
}

// checkProcesses reads /proc (Linux; elsewhere processes are not checked).
func (r *Report) checkProcesses(repoRoot string) error {
	root, err := filepath.Abs(repoRoot)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return err
	}
	entries, err := os.ReadDir("/proc")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	folders := []string{filepath.Join(os.TempDir(), ServerDirPrefix), filepath.Join(os.TempDir(), BinaryDirPrefix)}
	// The Node tests' processes (Better Auth, npm, the TypeScript client's tests, the Chromium
	// they drive), by working folder: children of a running test process, or orphans once it
	// has gone. A folder with one such child is in use for all its processes, since some
	// detach from their parents (Chromium's crash handler).
	type nodeProcess struct {
		Leftover
		cwd string
	}
	var nodes []nodeProcess
	cwdOwner := map[string]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue // gone, or a kernel thread
		}
		args := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
		l := Leftover{What: fmt.Sprintf("process %d: %s", pid, abbreviate(strings.Join(args, " "))), Fix: fmt.Sprintf("kill %d", pid)}
		if dir := underFolder(args, folders); dir != "" {
			// A private PostgreSQL (postgres -D <folder>), PgBouncer (<folder>/pgbouncer.ini),
			// the runuser running either, or taskapi (<folder>/taskapi).
			prefix := ServerDirPrefix
			if strings.HasPrefix(dir, BinaryDirPrefix) {
				prefix = BinaryDirPrefix
			}
			r.add(l, owner(strings.TrimPrefix(dir, prefix), "-"))
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue // not ours to inspect
		}
		name := filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
		if name != "node" && !strings.HasPrefix(name, "chrom") {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || (cwd != root && !strings.HasPrefix(cwd, root+string(filepath.Separator))) {
			continue
		}
		l.Why = "a Node or Chromium process in " + cwd + " with no test process above it"
		nodes = append(nodes, nodeProcess{l, cwd})
		if owner := testAncestor(pid); owner > 0 {
			cwdOwner[cwd] = owner
		}
	}
	for _, n := range nodes {
		r.add(n.Leftover, cwdOwner[n.cwd])
	}
	return nil
}

// underFolder returns the name of the first of folders (paths ending in a name prefix) that
// an argument is in, or "".
func underFolder(args, folders []string) string {
	for _, arg := range args {
		for _, f := range folders {
			if i := strings.Index(arg, f); i >= 0 {
				rest := arg[i+len(filepath.Dir(f))+1:]
				name, _, _ := strings.Cut(rest, string(filepath.Separator))
				return name
			}
		}
	}
	return ""
}

// testAncestor is the nearest running test process above pid, or 0.
func testAncestor(pid int) int {
	for range 64 {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 {
			return 0
		}
		if pid, err = strconv.Atoi(fields[1]); err != nil || pid <= 1 {
			return 0
		}
		if testProcessRunning(pid) {
			return pid
		}
	}
	return 0
}

func abbreviate(s string) string {
	if len(s) > 160 {
		return s[:157] + "..."
	}
	return s
}
