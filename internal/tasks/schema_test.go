package tasks_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"taskapi/internal/testdb"
)

// The schema is the last line: whatever a buggy service sends, a task the contract forbids
// is refused by PostgreSQL itself with a check violation (which the service maps to 422).
func TestSchemaRefusesInvalidTasks(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	insert := func(title string, tags []string) error {
		_, err := pool.Exec(ctx, `INSERT INTO tasks (id, user_id, title, tags) VALUES (gen_random_uuid(), 'u', $1, $2)`, title, tags)
		return err
	}
	if err := insert("fine", []string{"a", "b"}); err != nil {
		t.Fatalf("a valid task: %v", err)
	}
	eleven := strings.Split("a b c d e f g h i j k", " ")
	for name, tc := range map[string]struct {
		title string
		tags  []string
	}{
		"repeated tag":   {"x", []string{"a", "a"}},
		"eleven tags":    {"x", eleven},
		"long tag":       {"x", []string{strings.Repeat("é", 31)}},
		"empty tag":      {"x", []string{""}},
		"blank title":    {"   ", nil},
		"long title":     {strings.Repeat("x", 201), nil},
		"no tags (null)": {"x", nil},
	} {
		tags := tc.tags
		if tags == nil && name != "no tags (null)" {
			tags = []string{}
		}
		err := insert(tc.title, tags)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "23514" && pgErr.Code != "23502") {
			t.Errorf("%s: %v, want a check (or not-null) violation", name, err)
		}
	}
	_, err := pool.Exec(ctx, `UPDATE tasks SET tags = '{x,x}' WHERE user_id = 'u'`)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Errorf("an update to repeated tags: %v", err)
	}
}
