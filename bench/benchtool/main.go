// Command benchtool prepares the inputs of the load benchmark (bench/run.sh):
//
//	benchtool tokens -users 1000 -out tokens.txt
//	    one "user-N <HS256 JWT>" line per user, signed with $BETTER_AUTH_SECRET (auth.Mint,
//	    as `taskapi token` does), exp = now + 1h
//	benchtool fetch -base http://127.0.0.1:18080 -tokens tokens.txt -ids ids.txt \
//	    [-cursors cursors.txt -cursor-query 'status=pending&sort=-due_date&limit=20'] \
//	    [-recurring-ids recurring.txt]
//	    through the API, per user: the ids of the 20 newest tasks (GET /api/tasks?limit=20) for
//	    get/update, the next_cursor of the first page of the filtered query (the page-2
//	    cursor for list-filtered; cursors are opaque and bound to the user, sort and filters),
//	    and the ids of open recurring tasks (?recurring=true&status=pending) for complete-recurring
//	benchtool pgbench-list -src gen/db/tasks.sql.go -query listTasksByCreatedAtDesc -out list.sql \
//	    [-arg Completed=false ...]
//	    a pgbench script running the project's own list query, taken from the sqlc output,
//	    for a random user with every filter NULL (or the SQL given with -arg) and the page
//	    size the server uses (21)
//	benchtool floor -addr 127.0.0.1:18090 -tokens tokens.txt
//	    serves GET /api/tasks (the list scenario) from $DATABASE_URL with net/http and the
//	    service's own ListTasks, without Echo, spec validation, JWT verification or middleware:
//	    what any server on this stack can reach on the machine (see floor.go)
//	benchtool sse -base http://127.0.0.1:18080 -tokens tokens.txt -users 200 -tabs 10 -ready f -out f
//	    holds users x tabs event streams open until SIGTERM and reports each event's delay from
//	    its commit to its arrival (see sse.go)
//	benchtool creates -targets http://127.0.0.1:18081,http://127.0.0.1:18082 -tokens tokens.txt -from 1000 -c 16 \
//	    -duration 10s -out creates.txt
//	    idempotent creates (Idempotency-Key), one user per worker, each key retried on the other
//	    target after a connection error, timeout, 5xx or 429; logs every key (see replicas.go)
//	benchtool verify-creates -db URL -log creates.txt [-nats URL -stream NAME]
//	    checks by SQL that every logged key is exactly one task with one task.created event, in
//	    commit order, and no task lacks a key; with -stream, that every event reached JetStream once
//	    per Nats-Msg-Id (see verify.go)
//	benchtool nats-delete-stream -nats URL -stream BENCH_...
//	    removes a bench run's stream
//
// It is part of the module so that it signs tokens exactly as the server verifies them.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"taskapi/internal/auth"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool tokens|fetch|pgbench-list|floor|sse|lockprobe|creates|verify-creates|nats-delete-stream [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "tokens":
		err = tokens(args)
	case "fetch":
		err = fetch(args)
	case "pgbench-list":
		err = pgbenchList(args)
	case "floor":
		err = floor(args)
	case "sse":
		err = sseStreams(args)
	case "lockprobe":
		err = lockProbe(args)
	case "creates":
		err = creates(args)
	case "verify-creates":
		err = verifyCreates(args)
	case "nats-delete-stream":
		err = natsDeleteStream(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func tokens(args []string) error {
	fs := flag.NewFlagSet("tokens", flag.ExitOnError)
	users := fs.Int("users", 1000, "users user-1..user-N")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime")
	out := fs.String("out", "tokens.txt", "output file")
	_ = fs.Parse(args)
	secret := os.Getenv("BETTER_AUTH_SECRET")
	if len(secret) < 32 {
		return errors.New("BETTER_AUTH_SECRET must be set (at least 32 bytes)")
	}
	var b strings.Builder
	now := time.Now()
	for i := 1; i <= *users; i++ {
		sub := "user-" + strconv.Itoa(i)
		t, err := auth.Mint([]byte(secret), auth.Claims{Subject: sub, IssuedAt: now, TTL: *ttl})
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s\n", sub, t)
	}
	return os.WriteFile(*out, []byte(b.String()), 0o600)
}

type userToken struct{ user, token string }

func readTokens(path string) ([]userToken, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []userToken
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) == 2 {
			out = append(out, userToken{f[0], f[1]})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no tokens", path)
	}
	return out, s.Err()
}

type page struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func fetch(args []string) error {
	fs := flag.NewFlagSet("fetch", flag.ExitOnError)
	base := fs.String("base", "", "API base URL")
	tokensFile := fs.String("tokens", "tokens.txt", "tokens file")
	idsFile := fs.String("ids", "ids.txt", `output: "user id id ..." per user (empty: skip)`)
	perUser := fs.Int("per-user", 20, "ids per user (the list limit)")
	cursorsFile := fs.String("cursors", "", `output: "user cursor" per user with a second page (empty: skip)`)
	cursorQuery := fs.String("cursor-query", "status=pending&sort=-due_date&limit=20", "query of the filtered list")
	recurringFile := fs.String("recurring-ids", "", `output: "user id id ..." of open recurring tasks per user (empty: skip)`)
	conc := fs.Int("c", 8, "concurrent requests")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	_ = fs.Parse(args)
	if *base == "" {
		return errors.New("-base is required")
	}
	toks, err := readTokens(*tokensFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	get := func(u userToken, query string) (page, error) {
		var p page
		req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(*base, "/")+"/api/tasks?"+query, nil)
		if err != nil {
			return p, err
		}
		req.Header.Set("Authorization", "Bearer "+u.token)
		resp, err := client.Do(req)
		if err != nil {
			return p, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return p, err
		}
		if resp.StatusCode != http.StatusOK {
			return p, fmt.Errorf("GET /api/tasks?%s as %s: %d %s", query, u.user, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return p, fmt.Errorf("GET /api/tasks?%s as %s: %w", query, u.user, err)
		}
		return p, nil
	}

	ids := make([]string, len(toks))
	cursors := make([]string, len(toks))
	recurring := make([]string, len(toks))
	err = parallel(ctx, len(toks), *conc, func(i int) error {
		u := toks[i]
		if *idsFile != "" {
			p, err := get(u, "limit="+strconv.Itoa(*perUser))
			if err != nil {
				return err
			}
			if len(p.Items) == 0 {
				return fmt.Errorf("%s has no tasks: was the database seeded?", u.user)
			}
			line := []string{u.user}
			for _, it := range p.Items {
				line = append(line, it.ID)
			}
			ids[i] = strings.Join(line, " ")
		}
		if *cursorsFile != "" {
			p, err := get(u, *cursorQuery)
			if err != nil {
				return err
			}
			if p.NextCursor != nil && *p.NextCursor != "" {
				cursors[i] = u.user + " " + url.QueryEscape(*p.NextCursor)
			}
		}
		if *recurringFile != "" {
			p, err := get(u, "recurring=true&status=pending&limit=100")
			if err != nil {
				return err
			}
			if len(p.Items) > 0 {
				line := []string{u.user}
				for _, it := range p.Items {
					line = append(line, it.ID)
				}
				recurring[i] = strings.Join(line, " ")
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *idsFile != "" {
		if err := writeLines(*idsFile, ids); err != nil {
			return err
		}
	}
	if *cursorsFile != "" {
		if err := writeLines(*cursorsFile, cursors); err != nil {
			return err
		}
	}
	if *recurringFile != "" {
		if err := writeLines(*recurringFile, recurring); err != nil {
			return err
		}
	}
	return nil
}

func writeLines(path string, lines []string) error {
	var b strings.Builder
	n := 0
	for _, l := range lines {
		if l != "" {
			b.WriteString(l + "\n")
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: nothing to write", path)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// parallel runs fn(0..n-1) on conc goroutines and returns the first error.
func parallel(ctx context.Context, n, conc int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

var castRe = regexp.MustCompile(`\$(\d+)::([a-z_]+)`)

// pgbenchList turns a sqlc list query into a pgbench script. Its parameters are numbered in
// the order of the fields of the query's Params struct: UserID becomes a random seeded user,
// PageSize the page size, a field named with -arg the SQL given for it, and every other
// (nullable) field a NULL of the type the query casts it to. The values other than the user
// and page size are constants in the statement, so PostgreSQL plans it for them once: the
// statement specialised for one filter and cursor, which is what a ceiling should measure.
func pgbenchList(args []string) error {
	fs := flag.NewFlagSet("pgbench-list", flag.ExitOnError)
	src := fs.String("src", "gen/db/tasks.sql.go", "sqlc output to read the query from")
	name := fs.String("query", "listTasksByCreatedAtDesc", "the query's constant in -src")
	pageSize := fs.Int("page-size", 21, "LIMIT (the server asks for one row more than the page's 20)")
	out := fs.String("out", "list.sql", "output file")
	given, givenList := map[string]string{}, []string(nil)
	fs.Func("arg", "Field=SQL: the value of one of the query's parameters (repeatable)", func(a string) error {
		field, sql, ok := strings.Cut(a, "=")
		if !ok || field == "" || sql == "" {
			return errors.New("want Field=SQL")
		}
		given[field] = sql
		givenList = append(givenList, a)
		return nil
	})
	_ = fs.Parse(args)

	file, err := parser.ParseFile(token.NewFileSet(), *src, nil, 0)
	if err != nil {
		return err
	}
	params := strings.ToUpper((*name)[:1]) + (*name)[1:] + "Params"
	var sql string
	var fields []*ast.Field
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			if len(n.Names) == 1 && n.Names[0].Name == *name && len(n.Values) == 1 {
				if lit, ok := n.Values[0].(*ast.BasicLit); ok {
					sql, _ = strconv.Unquote(lit.Value)
				}
			}
		case *ast.TypeSpec:
			if st, ok := n.Type.(*ast.StructType); ok && n.Name.Name == params {
				fields = st.Fields.List
			}
		}
		return true
	})
	if sql == "" || len(fields) == 0 {
		return fmt.Errorf("%s: no const %s or type %s", *src, *name, params)
	}
	casts := map[string]string{}
	for _, m := range castRe.FindAllStringSubmatch(sql, -1) {
		if _, ok := casts[m[1]]; !ok {
			casts[m[1]] = m[2]
		}
	}
	repl := map[string]string{}
	for i, f := range fields {
		n := strconv.Itoa(i + 1)
		if len(f.Names) != 1 {
			return fmt.Errorf("%s: unexpected field list", params)
		}
		_, nullable := f.Type.(*ast.StarExpr)
		fname := f.Names[0].Name
		if v, ok := given[fname]; ok {
			repl[n] = "(" + v + ")"
			delete(given, fname)
			continue
		}
		switch {
		case fname == "UserID":
			repl[n] = "('user-' || :uid)"
		case fname == "PageSize":
			repl[n] = ":page_size"
		case nullable && casts[n] != "":
			repl[n] = "NULL::" + casts[n]
		default:
			return fmt.Errorf("%s.%s ($%s): don't know what value to give it", params, fname, n)
		}
	}
	if len(given) > 0 {
		return fmt.Errorf("%s has no field %v", params, given)
	}
	var unknown []string
	body := regexp.MustCompile(`\$(\d+)(::)?`).ReplaceAllStringFunc(sql, func(p string) string {
		n, cast := strings.CutSuffix(p[1:], "::")
		r, ok := repl[n]
		switch {
		case !ok:
			unknown = append(unknown, p)
			return p
		case cast && strings.HasPrefix(r, "NULL::"):
			return "NULL::" // the query casts it here already
		case cast:
			return r + "::"
		}
		return r
	})
	if len(unknown) > 0 {
		return fmt.Errorf("%s: parameters %v are not in %s", *name, unknown, params)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") { // sqlc's "-- name:" line
			lines = append(lines, l)
		}
	}
	set := "every filter NULL"
	if len(givenList) > 0 {
		set = strings.Join(givenList, ", ") + ", every other filter NULL"
	}
	script := fmt.Sprintf(`-- Generated by bench/benchtool pgbench-list from %s (%s): the project's own list query
-- for a random user (pgbench -D users=N), %s, LIMIT %d.
\set uid random(1, :users)
\set page_size %d
%s;
`, *src, *name, set, *pageSize, *pageSize, strings.Join(lines, "\n"))
	return os.WriteFile(*out, []byte(script), 0o644)
}
