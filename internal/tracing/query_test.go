package tracing

import "testing"

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ sql, name, operation string }{
		{"-- name: GetTask :one\n\nSELECT id FROM tasks WHERE user_id = $1", "GetTask", "SELECT"},
		{"-- name: DeleteExpiredIdempotencyKeys :execrows\nDELETE FROM idempotency_keys", "DeleteExpiredIdempotencyKeys", "DELETE"},
		{"-- name: TaskExists :one\n-- a comment sqlc kept\nSELECT EXISTS(SELECT 1)", "TaskExists", "SELECT"},
		{"-- name: CreateTask :one\nINSERT INTO tasks(id) VALUES ($1)", "CreateTask", "INSERT"},
		{"begin", "db.query", "begin"},
		{"  SELECT(1);", "db.query", "SELECT"},
		{"-- name: \nSELECT 1", "db.query", "SELECT"},
		{"", "db.query", ""},
	} {
		name, operation := describe(tc.sql)
		if name != tc.name || operation != tc.operation {
			t.Errorf("describe(%q) = %q, %q; want %q, %q", tc.sql, name, operation, tc.name, tc.operation)
		}
	}
}
