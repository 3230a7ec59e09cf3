package tasks_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"taskapi/gen/db"
	"taskapi/internal/testdb"
)

// The default list's query through the service's own pool configuration: one round trip and
// 21 rows scanned into db.Task, which is what the list endpoint spends most of its time on.
func BenchmarkListQuery(b *testing.B) {
	pool := testdb.New(b)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO tasks (id, user_id, title, description, priority, due_date, completed, completed_at, tags)
		SELECT gen_random_uuid(), 'bench', 'Task ' || i, CASE WHEN i % 4 > 0 THEN 'Some words about task ' || i END,
		       (ARRAY['low','medium','high'])[1 + i % 3]::task_priority,
		       CASE WHEN i % 2 = 0 THEN now() + i * interval '1 hour' END,
		       i % 3 = 0, CASE WHEN i % 3 = 0 THEN now() END,
		       CASE WHEN i % 2 = 0 THEN ARRAY['home', 'errands'] ELSE '{}' END
		FROM generate_series(1, 100) i`); err != nil {
		b.Fatal(err)
	}
	q := db.New(pool)
	b.ReportAllocs()
	start := processCPU(b)
	for b.Loop() {
		rows, err := q.ListTasksNewestFirst(ctx, db.ListTasksNewestFirstParams{UserID: "bench", PageSize: 21})
		if err != nil || len(rows) != 21 {
			b.Fatal(fmt.Sprint(len(rows), err))
		}
	}
	// The time per op is mostly waiting for PostgreSQL; this process's CPU is what we spend.
	b.ReportMetric(float64((processCPU(b)-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the CPU time (user and system) this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
