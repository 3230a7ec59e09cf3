package tasks_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The list has one query per sort order (db/queries/tasks.sql) because each order needs its
// own ORDER BY and keyset condition to read a page off an index; their filters must stay the
// same, or a filter would mean one thing in one order and another in the next.
func TestListQueriesShareOneFilterBlock(t *testing.T) {
	source, err := os.ReadFile("../../db/queries/tasks.sql")
	if err != nil {
		t.Fatal(err)
	}
	blocks := filterBlocks(string(source))
	if len(blocks) != 10 {
		t.Fatalf("found %d ListTasksBy* queries with a filter block, want 10: %v", len(blocks), keys(blocks))
	}
	if drift := driftingFrom(blocks, "ListTasksByCreatedAtDesc"); len(drift) > 0 {
		t.Errorf("the filter blocks of %v differ from ListTasksByCreatedAtDesc's", drift)
	}

	// The check can fail: one comparison changed in one query is caught.
	changed := strings.Replace(string(source), "OR due_date < sqlc.narg(due_before))", "OR due_date <= sqlc.narg(due_before))", 1)
	if changed == string(source) {
		t.Fatal("the mutation did not apply")
	}
	if drift := driftingFrom(filterBlocks(changed), "ListTasksByCreatedAtDesc"); len(drift) != 1 {
		t.Errorf("a drifted filter went unnoticed: %v", drift)
	}
}

var queryName = regexp.MustCompile(`(?m)^-- name: (\w+)`)

// filterBlocks returns each ListTasksBy* query's filter lines: from its WHERE up to the
// keyset condition on after_id, which is the part that differs by sort order.
func filterBlocks(source string) map[string]string {
	blocks := map[string]string{}
	names := queryName.FindAllStringSubmatchIndex(source, -1)
	for i, m := range names {
		name := source[m[2]:m[3]]
		if !strings.HasPrefix(name, "ListTasksBy") {
			continue
		}
		end := len(source)
		if i+1 < len(names) {
			end = names[i+1][0]
		}
		query := source[m[1]:end]
		from, to := strings.Index(query, "WHERE "), strings.Index(query, "AND (sqlc.narg(after_id)")
		if from < 0 || to < from {
			continue
		}
		blocks[name] = strings.Join(strings.Fields(query[from:to]), " ")
	}
	return blocks
}

func driftingFrom(blocks map[string]string, reference string) []string {
	var drift []string
	for name, block := range blocks {
		if block != blocks[reference] {
			drift = append(drift, name)
		}
	}
	return drift
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
