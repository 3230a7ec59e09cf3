package postgres_test

import (
	"context"
	"testing"

	"taskapi/internal/testdb"
)

// Every primary key and unique constraint of a table of users' rows holds user_id, and no
// foreign key exists: the rule Citus sets for tables distributed by user_id
// (docs/scaling.md). task_events_pruned (one row for all users) and goose's table are the
// global ones.
func TestEveryKeyHoldsTheUser(t *testing.T) {
	pool := testdb.New(t)
	rows, err := pool.Query(context.Background(), `
		SELECT c.conrelid::regclass::text, c.conname, c.contype::text,
		       'user_id' = ANY (ARRAY(SELECT a.attname::text FROM pg_attribute a
		                              WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)))
		FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
		WHERE r.relnamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f')
		  AND r.relname NOT IN ('task_events_pruned', 'goose_db_version')
		UNION ALL
		SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, 'unique index',
		       'user_id' = ANY (ARRAY(SELECT a.attname::text FROM pg_attribute a
		                              WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)))
		FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid
		WHERE r.relnamespace = 'public'::regnamespace AND i.indisunique
		  AND r.relname NOT IN ('task_events_pruned', 'goose_db_version')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tables := map[string]bool{}
	for rows.Next() {
		var table, name, kind string
		var holdsUser bool
		if err := rows.Scan(&table, &name, &kind, &holdsUser); err != nil {
			t.Fatal(err)
		}
		tables[table] = true
		if kind == "f" {
			t.Errorf("%s: foreign key %s (a distributed table may not have one across users)", table, name)
		} else if !holdsUser {
			t.Errorf("%s: %s (%s) does not hold user_id", table, name, kind)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"tasks", "task_events", "idempotency_keys"} {
		if !tables[table] {
			t.Errorf("no key of %s was checked", table)
		}
	}
}
