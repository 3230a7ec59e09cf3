package tasks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/internal/testdb"
)

// listQueries reads the SQL of every ListTasksBy* query from the code sqlc generated, so the
// plans checked are those of the statements the service really sends.
func listQueries(t *testing.T) map[string]string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "../../gen/db/tasks.sql.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{}
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || !strings.HasPrefix(spec.Names[0].Name, "listTasksBy") {
			return true
		}
		lit, ok := spec.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		sql, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		queries[spec.Names[0].Name] = sql
		return true
	})
	if len(queries) != 10 {
		t.Fatalf("found %d list queries, want one per sort order (10)", len(queries))
	}
	return queries
}

// generatedSQL is the SQL of the query sqlc generated as the constant name (listReminders, ...).
func generatedSQL(t *testing.T, name string) string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "../../gen/db/tasks.sql.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sql string
	ast.Inspect(file, func(n ast.Node) bool {
		if spec, ok := n.(*ast.ValueSpec); ok && len(spec.Names) == 1 && spec.Names[0].Name == name && len(spec.Values) == 1 {
			if lit, ok := spec.Values[0].(*ast.BasicLit); ok {
				sql, _ = strconv.Unquote(lit.Value)
			}
		}
		return true
	})
	if sql == "" {
		t.Fatalf("no %s in gen/db", name)
	}
	return sql
}

// listFamily names a list query's sort column (CreatedAt, Title, ...) and direction.
var listFamily = regexp.MustCompile(`^listTasksBy(\w+?)(Asc|Desc)$`)

// seed puts users x perUser tasks in, interleaved by user as real traffic writes them.
func seed(t *testing.T, pool *pgxpool.Pool, users, perUser int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, tags)
		SELECT gen_random_uuid(), 'user-' || u, 'Task ' || n || ' of user ' || u,
		       CASE WHEN n % 3 = 0 THEN 'milk and bread' END, n % 4 = 0,
		       (ARRAY['low','medium','high'])[1 + n % 3]::task_priority,
		       CASE WHEN n % 5 <> 0 THEN now() + n * interval '1 hour' END,
		       CASE WHEN n % 2 = 0 THEN ARRAY['even'] ELSE ARRAY['odd', 'x'] END
		FROM generate_series(1, $2::int) n, generate_series(1, $1::int) u
		ORDER BY n, u`, users, perUser)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), "ANALYZE tasks"); err != nil {
		t.Fatal(err)
	}
}

// Every list variant (each sort, each filter, first page and later pages) reads through an
// index and never scans the whole table, whether PostgreSQL plans it for the values given
// or as the generic plan a prepared statement ends up with.
func TestEveryListVariantUsesAnIndex(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	seed(t, pool, 400, 100)
	ctx := context.Background()

	// The parameters, in the order all ListTasksBy* queries take them: user, completed,
	// priority, tag, due_before, due_after, pattern, recurring, remind_before, after_id,
	// after_key, page_size.
	variants := map[string][]any{
		"no filter":     {"user-7", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, 21},
		"status":        {"user-7", false, nil, nil, nil, nil, nil, nil, nil, nil, nil, 21},
		"priority":      {"user-7", nil, "high", nil, nil, nil, nil, nil, nil, nil, nil, 21},
		"tag":           {"user-7", nil, nil, "even", nil, nil, nil, nil, nil, nil, nil, 21},
		"due window":    {"user-7", nil, nil, nil, "2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z", nil, nil, nil, nil, nil, 21},
		"search":        {"user-7", nil, nil, nil, nil, nil, "%milk%", nil, nil, nil, nil, 21},
		"recurring":     {"user-7", nil, nil, nil, nil, nil, nil, true, nil, nil, nil, 21},
		"remind_before": {"user-7", nil, nil, nil, nil, nil, nil, nil, "2030-01-01T00:00:00Z", nil, nil, 21},
		"all filters":   {"user-7", true, "low", "even", "2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "%milk%", false, "2030-01-01T00:00:00Z", nil, nil, 21},
	}
	keys := map[string]string{ // a cursor's sort key per query family
		"CreatedAt": "2026-11-26T12:00:00.000000Z", "UpdatedAt": "2026-11-26T12:00:00.000000Z",
		"Title": "Task 50 of user 7", "Priority": "medium", "DueDate": "2026-12-01T00:00:00.000000Z",
	}
	for name, sql := range listQueries(t) {
		for variant, args := range variants {
			for _, page := range []string{"first page", "later page"} {
				args := append([]any(nil), args...)
				if page == "later page" {
					args[9], args[10] = "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e", keys[listFamily.FindStringSubmatch(name)[1]]
				}
				for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
					plan := explain(t, ctx, pool, mode, sql, args)
					scans := scansOfTasks(plan)
					if len(scans) == 0 || strings.Contains(strings.Join(scans, " "), "Seq Scan") {
						t.Errorf("%s, %s, %s, %s plan: reads tasks with %v", name, variant, page, mode, scans)
					}
				}
			}
		}
	}
}

// explain returns the JSON plan of sql with args, planned in the given plan_cache_mode.
func explain(t *testing.T, ctx context.Context, pool *pgxpool.Pool, mode, sql string, args []any) any {
	return explainWith(t, ctx, pool, mode, "FORMAT JSON", sql, args)
}

// explainWith is explain with the given EXPLAIN options (ANALYZE runs the statement).
func explainWith(t *testing.T, ctx context.Context, pool *pgxpool.Pool, mode, options, sql string, args []any) any {
	t.Helper()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "RESET plan_cache_mode")
	stmt := fmt.Sprintf("plan_%p", &args)
	if _, err := conn.Conn().Prepare(ctx, stmt, "EXPLAIN ("+options+") "+sql); err != nil {
		t.Fatalf("preparing %s: %v", sql, err)
	}
	defer conn.Conn().Deallocate(ctx, stmt)
	var out []byte
	if err := conn.QueryRow(ctx, stmt, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plan any
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatal(err)
	}
	return plan
}

// scansOfTasks lists the scan nodes that read the tasks table ("Index Scan", "Seq Scan", ...).
func scansOfTasks(plan any) []string {
	var scans []string
	eachScanOfTasks(plan, func(node map[string]any) {
		scans = append(scans, fmt.Sprint(node["Node Type"])+" "+fmt.Sprint(node["Index Name"]))
	})
	return scans
}

// eachScanOfTasks calls visit with every node of a JSON plan that reads the tasks table.
func eachScanOfTasks(plan any, visit func(node map[string]any)) {
	switch v := plan.(type) {
	case []any:
		for _, x := range v {
			eachScanOfTasks(x, visit)
		}
	case map[string]any:
		if v["Relation Name"] == "tasks" {
			visit(v)
		}
		for _, x := range v {
			eachScanOfTasks(x, visit)
		}
	}
}

// A page in any sort order reads about as many rows as it is deep (through the order's own
// index), not all of the user's rows: a list must not cost more the more tasks the user has
// (migrations 5 and 8), checked at 10,000 tasks a user. (A due-date cursor is a filter, not a
// bound of the index range, because tasks without a due date come last in both directions; so
// page n reads the n pages before it.)
func TestEveryOrderReadsAPageNotTheUser(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	const perUser = 10000
	seed(t, pool, 4, perUser)
	ctx := context.Background()
	for name, sql := range listQueries(t) {
		// user, completed, priority, tag, due_before, due_after, pattern, recurring,
		// remind_before, after_id, after_key, page_size: pending tasks, the first page and the
		// second (after the first page's last row, its sort key as the service writes it).
		first := []any{"user-3", false, nil, nil, nil, nil, nil, nil, nil, nil, nil, 20}
		id, key := lastOfPage(t, ctx, pool, name, sql, first)
		second := []any{"user-3", false, nil, nil, nil, nil, nil, nil, nil, id, key, 21}
		for page, args := range map[string][]any{"first page": first, "second page": second} {
			for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
				plan := explainWith(t, ctx, pool, mode, "ANALYZE, FORMAT JSON", sql, args)
				if read := rowsReadFromTasks(plan); read > 80 {
					raw, _ := json.Marshal(plan)
					t.Errorf("%s, %s, %s plan: read %d of the user's %d rows: %s", name, page, mode, read, perUser, raw)
				}
			}
		}
	}
}

// lastOfPage runs a list query and returns its last row's id and sort key, as a cursor holds them.
func lastOfPage(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name, sql string, args []any) (id, key string) {
	t.Helper()
	column := map[string]string{"CreatedAt": "created_at", "UpdatedAt": "updated_at", "Title": "title",
		"Priority": "priority", "DueDate": "due_date"}[listFamily.FindStringSubmatch(name)[1]]
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
		row, err := pgx.RowToMap(rows)
		if err != nil {
			t.Fatal(err)
		}
		id = uuid.UUID(row["id"].([16]byte)).String()
		switch v := row[column].(type) {
		case time.Time:
			key = v.UTC().Format("2006-01-02T15:04:05.000000Z")
		case string:
			key = v
		default:
			t.Fatalf("%s: %s is a %T", name, column, v)
		}
	}
	if rows.Err() != nil || n != args[len(args)-1].(int) {
		t.Fatalf("%s: first page: %d rows, %v", name, n, rows.Err())
	}
	return id, key
}

// rowsReadFromTasks sums the rows that the plan's scans of tasks fetched: those they returned
// and those their filters removed.
func rowsReadFromTasks(plan any) int {
	read := 0
	eachScanOfTasks(plan, func(node map[string]any) {
		for _, k := range []string{"Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck"} {
			if n, ok := node[k].(float64); ok {
				read += int(n)
			}
		}
	})
	return read
}

// The default list's own statements have generic plans that read the page straight off the
// index in order (no sort), which is what lets a prepared statement skip planning.
func TestDefaultListIsAnOrderedIndexScan(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	seed(t, pool, 400, 100)
	for name, args := range map[string][]any{
		"listTasksNewestFirst": {"user-7", 21},
		"listTasksNewestAfter": {"user-7", "2026-11-26T12:00:00.000000Z", "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e", 21},
	} {
		plan := explain(t, context.Background(), pool, "force_generic_plan", generatedSQL(t, name), args)
		raw, _ := json.Marshal(plan)
		if !strings.Contains(string(raw), `"Node Type":"Index Scan"`) || strings.Contains(string(raw), `"Node Type":"Sort"`) {
			t.Errorf("%s's generic plan is not an ordered index scan: %s", name, raw)
		}
	}
}

// The reminders poll reads its page off tasks_user_remind, however many of the user's tasks have
// (or had, now completed) a reminder: a page read, not a scan of the user's tasks.
func TestRemindersPollReadsAPage(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	const perUser = 400
	seed(t, pool, 50, perUser)
	ctx := context.Background()
	// Every task gets a reminder in the past; a quarter of them are completed (out of the poll).
	if _, err := pool.Exec(ctx, `UPDATE tasks SET remind_at = created_at - interval '1 day' * (random() * 100)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE tasks"); err != nil {
		t.Fatal(err)
	}
	sql := generatedSQL(t, "listReminders")
	for page, args := range map[string][]any{
		"first page":  {"user-7", time.Now(), nil, nil, 21},
		"second page": {"user-7", time.Now(), "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e", "2026-06-01T00:00:00.000000Z", 21},
	} {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			plan := explainWith(t, ctx, pool, mode, "ANALYZE, FORMAT JSON", sql, args)
			raw, _ := json.Marshal(plan)
			if !strings.Contains(string(raw), "tasks_user_remind") || strings.Contains(string(raw), `"Seq Scan"`) {
				t.Errorf("%s, %s plan does not read tasks_user_remind: %s", page, mode, raw)
			}
			if read := rowsReadFromTasks(plan); read > 30 {
				t.Errorf("%s, %s plan read %d of the user's %d tasks for a page of 20: %s", page, mode, read, perUser, raw)
			}
		}
	}
}

// A search for text in few of a user's tasks reads those tasks' candidates off tasks_user_search
// (migration 9), not all of the user's 10,000 tasks, in every sort order, and finds what ILIKE
// finds: the index's keys are lowered by ICU as ILIKE lowers, so a Greek final sigma or a dotted
// capital I (where the database's default lowering differs) is not missed.
func TestSearchReadsItsMatchesNotTheUser(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	const perUser = 10000
	seed(t, pool, 4, perUser)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		INSERT INTO tasks (id, user_id, title, description) VALUES
		  (gen_random_uuid(), 'user-3', 'ΟΔΟΣ ΠΑΝΕΠΙΣΤΗΜΙΟΥ 12', NULL),
		  (gen_random_uuid(), 'user-3', 'Flug nach İSTANBUL', 'Koffer packen'),
		  (gen_random_uuid(), 'user-3', 'Book a check-up', 'Call the DENTIST before Friday'),
		  (gen_random_uuid(), 'user-2', 'Call the dentist', NULL);
		ANALYZE tasks`)
	if err != nil {
		t.Fatal(err)
	}
	searches := map[string]string{ // q: the title of user-3's one task it finds
		"task 4242 of":   "Task 4242 of user 3",
		"οδος":           "ΟΔΟΣ ΠΑΝΕΠΙΣΤΗΜΙΟΥ 12",
		"Οδός":           "", // an accent is a different letter to ILIKE
		"İstanbul":       "Flug nach İSTANBUL",
		"i\u0307stanbul": "Flug nach İSTANBUL", // how ICU lowers İ: i and a combining dot
		"dentist befor":  "Book a check-up",
	}
	// The queries' exact test is ILIKE written out (lower() on both sides, then LIKE); ILIKE
	// itself must agree with the expected titles, or the two would differ.
	for q, want := range searches {
		var found string
		err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(title, ' | '), '') FROM tasks
			WHERE user_id = 'user-3' AND (title ILIKE $1 OR description ILIKE $1)`, "%"+q+"%").Scan(&found)
		if err != nil {
			t.Fatal(err)
		}
		if found != want {
			t.Errorf("ILIKE %q finds %q, want %q", q, found, want)
		}
	}
	for name, sql := range listQueries(t) {
		for q, want := range searches {
			args := []any{"user-3", nil, nil, nil, nil, nil, "%" + q + "%", nil, nil, nil, nil, 21}
			plan := explainWith(t, ctx, pool, "force_custom_plan", "ANALYZE, FORMAT JSON", sql, args)
			raw, _ := json.Marshal(plan)
			if !strings.Contains(string(raw), `"Index Name":"tasks_user_search"`) {
				t.Errorf("%s, q=%q: not read through tasks_user_search: %s", name, q, raw)
			}
			if read := rowsReadFromTasks(plan); read > 20 {
				t.Errorf("%s, q=%q: read %d of the user's %d rows: %s", name, q, read, perUser, raw)
			}
			rows, err := pool.Query(ctx, sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowToMap)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, row := range got {
				titles = append(titles, row["title"].(string))
			}
			if found := strings.Join(titles, " | "); found != want {
				t.Errorf("%s, q=%q: found %q, want %q", name, q, found, want)
			}
		}
	}
}

// connAtScale is a connection to a fresh database in which each of 4 users has 10,000 tasks.
func connAtScale(t *testing.T) *pgxpool.Conn {
	t.Helper()
	pool := testdb.New(t)
	seed(t, pool, 4, 10000)
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	return conn
}

// The service's statements are prepared once and run with the values of each request; a search
// can only use tasks_user_search in a plan made for its values (a generic plan must also serve a
// list without q). PostgreSQL keeps planning them per value when that is cheaper on average,
// which holds while searches and plain filtered lists share a statement.
func TestSearchesKeepPlansMadeForTheirValues(t *testing.T) {
	t.Parallel()
	conn := connAtScale(t)
	ctx := context.Background()
	sql := listQueries(t)["listTasksByCreatedAtDesc"]
	if _, err := conn.Conn().Prepare(ctx, "search", sql); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		args := []any{"user-" + strconv.Itoa(1+i%4), nil, nil, "even", nil, nil, nil, nil, nil, nil, nil, 21}
		if i%2 == 0 {
			args[3], args[6] = nil, fmt.Sprintf("%%Task %d of%%", 1+i*97)
		}
		rows, err := conn.Query(ctx, "search", args...)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	var generic, custom int
	if err := conn.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'search'").Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic != 0 || custom != 30 {
		t.Errorf("30 runs of the prepared list: %d generic plans, %d custom plans; want every one custom", generic, custom)
	}
}

// The default list's statements (newest first, the first page and the pages after a cursor) are
// prepared once and keep one cached plan however many tasks a user has. PostgreSQL prices a
// generic plan's LIMIT parameter as 10% of the rows it estimates, so at 10,000 tasks a user the
// generic plan looked 50 times dearer than a plan for the values and every call was planned
// again (bench/RESULTS.md, 2026-12-08). The largest page (100 tasks and the row that says a next
// page exists) still comes back whole.
func TestPlainPagesKeepTheirCachedPlan(t *testing.T) {
	t.Parallel()
	conn := connAtScale(t)
	ctx := context.Background()
	count := func(name string, args ...any) int {
		t.Helper()
		rows, err := conn.Query(ctx, name, args...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowToMap)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	for name, cursor := range map[string][]any{
		"listTasksNewestFirst": nil,
		"listTasksNewestAfter": {"2100-01-01T00:00:00.000000Z", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
	} {
		if _, err := conn.Conn().Prepare(ctx, name, generatedSQL(t, name)); err != nil {
			t.Fatal(err)
		}
		const runs = 20
		for i := range runs {
			args := append(append([]any{"user-" + strconv.Itoa(1+i%4)}, cursor...), 21)
			if n := count(name, args...); n != 21 {
				t.Fatalf("%s: %d rows, want a page of 21", name, n)
			}
		}
		var generic, custom int
		if err := conn.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1", name).Scan(&generic, &custom); err != nil {
			t.Fatal(err)
		}
		// PostgreSQL makes five custom plans before it compares them with the generic one.
		if generic < runs-5 {
			t.Errorf("%s at 10,000 tasks a user: %d generic and %d custom plans in %d runs; want the generic plan once PostgreSQL has compared",
				name, generic, custom, runs)
		}
		if n := count(name, append(append([]any{"user-1"}, cursor...), 101)...); n != 101 {
			t.Errorf("%s: the largest page gave %d rows, want 101", name, n)
		}
	}
}
