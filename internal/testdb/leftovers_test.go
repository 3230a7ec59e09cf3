package testdb

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The check reports what a test leaves: a database named as tests name theirs, and a folder
// and a process of a test process that has exited. What this running test process made is
// in use instead, and not counted.
func TestLeftoversReportsWhatTestsLeave(t *testing.T) {
	ctx := context.Background()
	admin := connectAdmin(t)
	t.Cleanup(func() { admin.Close(ctx) })
	const probe = DatabasePrefix + "leftover_probe"
	dropProbe := func() { admin.Exec(ctx, "DROP DATABASE IF EXISTS "+probe+" WITH (FORCE)") }
	dropProbe() // from an interrupted run
	t.Cleanup(dropProbe)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+probe); err != nil {
		t.Fatal(err)
	}
	ours := URL(t)
	ours = ours[strings.LastIndex(ours, "/")+1 : strings.Index(ours, "?")]

	// The folder of a test process that has exited, and a process still running from it.
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	orphanDir := filepath.Join(os.TempDir(), BinaryDirPrefix+strconv.Itoa(exited.ProcessState.Pid())+"-probe")
	if err := os.Mkdir(orphanDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(orphanDir) })
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sleep, filepath.Join(orphanDir, "taskapi")); err != nil {
		t.Fatal(err)
	}
	orphan := exec.Command(filepath.Join(orphanDir, "taskapi"), "60")
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { orphan.Process.Kill(); orphan.Wait() })
	ownDir, err := MkdirTemp(BinaryDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ownDir) })

	report, err := Leftovers(ctx, "../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"database " + probe, "folder " + orphanDir, "process " + strconv.Itoa(orphan.Process.Pid) + ": " + orphanDir} {
		if !mentions(report.Left, want) {
			t.Errorf("not reported as left behind: %s\nleft: %+v", want, report.Left)
		}
	}
	for _, want := range []string{"database " + ours, "folder " + ownDir} {
		if !mentions(report.InUse, want) || mentions(report.Left, want) {
			t.Errorf("not reported as in use (only): %s\nin use: %+v\nleft: %+v", want, report.InUse, report.Left)
		}
	}
}

func mentions(list []Leftover, what string) bool {
	for _, l := range list {
		if strings.HasPrefix(l.What, what) {
			return true
		}
	}
	return false
}
