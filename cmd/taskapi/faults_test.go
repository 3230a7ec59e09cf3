package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

// ackedTasksExist checks that every task a client was told about (a 201) is in the database,
// and that the database holds no task nobody was told about.
func ackedTasksExist(t *testing.T, url string, acked []string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var total, found int
	err = conn.QueryRow(context.Background(),
		"SELECT count(*), count(*) FILTER (WHERE id::text = ANY ($1)) FROM tasks", acked).Scan(&total, &found)
	if err != nil {
		t.Fatal(err)
	}
	if found != len(acked) || total != len(acked) {
		t.Errorf("%d creates acknowledged; the database has %d of them and %d tasks in all", len(acked), found, total)
	}
}

// SIGTERM under load: the server stops accepting, finishes every request it accepted, and
// every acknowledged create is in the database.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	url := testdb.URL(t)
	p := apitest.StartBinary(t, "DATABASE_URL="+url, "BETTER_AUTH_SECRET="+secret,
		"RATE_LIMIT_RPS=0", "SHUTDOWN_TIMEOUT=20s", "LOG_LEVEL=warn")
	cmd, logs, base := p.Cmd, p.Logs, p.BaseURL

	c := apitest.NewClient(t, base, []byte(secret))
	c.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	token := c.Token("alice")
	var (
		mu      sync.Mutex
		acked   []string
		refused int
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 12 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/api/tasks",
					strings.NewReader(fmt.Sprintf(`{"title":"w%d-%d"}`, w, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := c.HTTP.Do(req)
				if err != nil {
					// After the listener closes, connections are refused, or cut (reset or
					// EOF before any answer) while they waited in the kernel's accept queue,
					// never accepted by the server; the row count below proves none of these
					// was processed.
					if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
						t.Errorf("a request failed in a way only an accepted request could: %v", err)
					}
					mu.Lock()
					refused++
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
					continue
				}
				var created struct{ ID string }
				r := &apitest.Response{Status: resp.StatusCode, Header: resp.Header}
				body, readErr := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.Body = body
				if readErr != nil || resp.StatusCode != http.StatusCreated {
					t.Errorf("an accepted request got an incomplete answer: %d %v %s", resp.StatusCode, readErr, body)
					continue
				}
				r.JSON(t, &created)
				mu.Lock()
				acked = append(acked, created.ID)
				mu.Unlock()
			}
		})
	}
	time.Sleep(700 * time.Millisecond) // load is running
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("taskapi did not exit after SIGTERM\n%s", logs)
	}
	if !cmd.ProcessState.Success() {
		t.Errorf("taskapi exited with %v after SIGTERM\n%s", cmd.ProcessState, logs)
	}
	time.Sleep(100 * time.Millisecond) // a few more attempts, all refused
	close(stop)
	wg.Wait()
	if len(acked) < 50 || refused == 0 {
		t.Fatalf("the load did not straddle the shutdown: %d acknowledged, %d refused", len(acked), refused)
	}
	ackedTasksExist(t, url, acked)
}

// The database dies under load: the API answers 503 with Retry-After (quickly, not after a
// hang), /readyz says not ready, and when the database is back the API recovers by itself
// with every acknowledged write still there.
func TestDatabaseOutage(t *testing.T) {
	pg := testdb.StartPrivate(t)
	pg.CreateDatabase("taskapi")
	t.Setenv("DATABASE_URL", pg.URL("taskapi"))
	t.Setenv("BETTER_AUTH_SECRET", secret)
	t.Setenv("REQUEST_TIMEOUT", "3s")
	t.Setenv("RATE_LIMIT_RPS", "0")
	baseURL, _, stderr, stop := start(t)
	c := apitest.NewClient(t, baseURL, []byte(secret))
	// A request that hung past REQUEST_TIMEOUT would fail the test here.
	c.HTTP.Timeout = 5 * time.Second
	alice := c.Token("alice")
	var acked []string
	createOK := func() bool {
		r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{"title": "durable"}})
		if r.Status != http.StatusCreated {
			return false
		}
		var created struct{ ID string }
		r.JSON(t, &created)
		acked = append(acked, created.ID)
		return true
	}
	for range 5 {
		if !createOK() {
			t.Fatal("create before the outage failed")
		}
	}

	pg.Stop()
	for _, req := range []apitest.Request{
		{Method: http.MethodGet, Path: "/api/tasks", Token: alice},
		{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{"title": "during"}},
		{Method: http.MethodGet, Path: "/api/tasks/" + acked[0], Token: alice},
		{Method: http.MethodPatch, Path: "/api/tasks/" + acked[0], Token: alice, Body: map[string]any{"completed": true}},
		{Method: http.MethodGet, Path: "/readyz"},
	} {
		r := c.Do(req)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s during the outage: %d (Retry-After %q) %s", req.Method, req.Path, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	}
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz"}); r.Status != http.StatusOK {
		t.Errorf("healthz during the outage: %d", r.Status)
	}

	pg.Start()
	if err := testdb.WaitFor(30*time.Second, func() error {
		if createOK() {
			return nil
		}
		return errors.New("not recovered")
	}); err != nil {
		t.Fatalf("the API did not recover after the database came back\n%s", stderr)
	}
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"}); r.Status != http.StatusOK {
		t.Errorf("readyz after recovery: %d", r.Status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	ackedTasksExist(t, pg.URL("taskapi"), acked)
	if strings.Contains(stderr.String(), `"level":"ERROR"`) {
		t.Errorf("the outage was logged as server errors (500s), not as unavailability:\n%s", stderr)
	}
}

// Started while the database is unreachable (a Neon compute still waking), the service
// keeps retrying instead of exiting.
func TestStartupWaitsForTheDatabase(t *testing.T) {
	pg := testdb.StartPrivate(t)
	pg.CreateDatabase("taskapi")
	pg.Stop()
	t.Setenv("DATABASE_URL", pg.URL("taskapi"))
	t.Setenv("BETTER_AUTH_SECRET", secret)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		pg.Start()
	}()
	baseURL, _, stderr, _ := start(t)
	if !strings.Contains(stderr.String(), "database not reachable yet") {
		t.Errorf("no retry was logged:\n%s", stderr)
	}
	c := apitest.NewClient(t, baseURL, []byte(secret))
	if r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: c.Token("a"), Body: map[string]any{"title": "x"}}); r.Status != http.StatusCreated {
		t.Errorf("create after a late database: %d %s", r.Status, r.Body)
	}
}
