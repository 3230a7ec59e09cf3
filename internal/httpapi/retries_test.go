package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"taskapi/internal/apitest"
	"taskapi/internal/ratelimit"
	"taskapi/internal/tasks"
)

func countTasks(t *testing.T, s *apitest.Server) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM tasks").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, bob := s.Token("alice"), s.Token("bob")
	post := func(token, key string, body any) *apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: body,
			Header: http.Header{"Idempotency-Key": {key}}})
	}

	first := post(alice, "key-1", map[string]any{"title": "Pay rent", "tags": []string{"home"}})
	wantStatus(t, first, http.StatusCreated)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("the first response is marked as a replay")
	}
	// A retry, with the body written differently but meaning the same.
	again := post(alice, "key-1", `{"tags": ["home"], "title": "Pay rent "}`)
	wantStatus(t, again, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body, first.Body) ||
		again.Header.Get("Location") != first.Header.Get("Location") || again.Header.Get("ETag") != first.Header.Get("ETag") {
		t.Errorf("the replay differs:\n%s %v\n%s %v", first.Body, first.Header, again.Body, again.Header)
	}
	if n := countTasks(t, s); n != 1 {
		t.Fatalf("%d tasks after a retried create", n)
	}

	// The replay is the original response even after the task changed.
	var created task
	first.JSON(t, &created)
	s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + created.ID, Token: alice, Body: map[string]any{"title": "Paid"}})
	if r := post(alice, "key-1", map[string]any{"title": "Pay rent", "tags": []string{"home"}}); !bytes.Equal(r.Body, first.Body) {
		t.Errorf("the replay after an update is not the original: %s", r.Body)
	}

	p := wantProblem(t, post(alice, "key-1", map[string]any{"title": "Something else"}), http.StatusUnprocessableEntity, "Idempotency-Key")
	if !strings.Contains(p.Detail, "different request") {
		t.Errorf("detail %q", p.Detail)
	}
	// Keys are per user.
	wantStatus(t, post(bob, "key-1", map[string]any{"title": "Pay rent"}), http.StatusCreated)
	// A request that failed validation does not use up its key.
	wantProblem(t, post(alice, "key-2", map[string]any{"title": ""}), http.StatusUnprocessableEntity)
	r := post(alice, "key-2", map[string]any{"title": "fixed"})
	if r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("retry after a refused request: %d %v", r.Status, r.Header)
	}
	for _, key := range []string{"", strings.Repeat("k", 256), "has space", "ключ"} {
		wantProblem(t, post(alice, key, map[string]any{"title": "x"}), http.StatusBadRequest, "Idempotency-Key")
	}
	if n := countTasks(t, s); n != 3 {
		t.Errorf("%d tasks, want 3", n)
	}
}

// Requests with the same key arriving together create one task between them; every one of
// them gets that task.
func TestIdempotentCreateUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	const n = 16
	results := make([]*apitest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = s.For(t).Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice,
				Body: map[string]any{"title": "once"}, Header: http.Header{"Idempotency-Key": {"same"}}})
		})
	}
	close(start)
	wg.Wait()
	originals, location := 0, results[0].Header.Get("Location")
	for _, r := range results {
		switch {
		case r.Status == http.StatusConflict:
		case r.Status != http.StatusCreated:
			t.Errorf("status %d: %s", r.Status, r.Body)
		case r.Header.Get("Location") != location:
			t.Errorf("two different tasks: %s and %s", location, r.Header.Get("Location"))
		case r.Header.Get("Idempotent-Replayed") == "":
			originals++
		}
	}
	if originals != 1 {
		t.Errorf("%d responses claim to have created the task", originals)
	}
	if got := countTasks(t, s); got != 1 {
		t.Errorf("%d tasks from %d concurrent requests with one key", got, n)
	}
}

func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	post := func() *apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice,
			Body: map[string]any{"title": "daily"}, Header: http.Header{"Idempotency-Key": {"old"}}})
	}
	first := post()
	if _, err := s.Pool.Exec(context.Background(), "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"); err != nil {
		t.Fatal(err)
	}
	// Past 24 hours the key is free again: a new task, not a replay.
	second := post()
	if second.Status != http.StatusCreated || second.Header.Get("Idempotent-Replayed") != "" ||
		second.Header.Get("Location") == first.Header.Get("Location") {
		t.Errorf("an expired key replayed: %d %v", second.Status, second.Header)
	}
	if _, err := s.Pool.Exec(context.Background(), `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
		VALUES ('alice', 'stale', '\x00', now() - interval '2 days'), ('bob', 'fresh', '\x00', now())`); err != nil {
		t.Fatal(err)
	}
	deleted, err := tasks.New(s.Pool, nil).DeleteExpiredIdempotencyKeys(context.Background())
	if err != nil || deleted != 1 {
		t.Errorf("cleanup deleted %d (%v), want the one stale key", deleted, err)
	}
	var left int
	s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM idempotency_keys").Scan(&left)
	if left != 2 { // "old" (re-claimed just now) and "fresh"
		t.Errorf("%d keys left, want 2", left)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := apitest.Start(t, apitest.Options{Limiter: ratelimit.NewMemory(ratelimit.Policy{Rate: 1, Burst: 3}, clock)})
	alice := s.Token("alice")
	list := func(token string) *apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: token})
	}
	for i := range 3 {
		r := list(alice)
		wantStatus(t, r, http.StatusOK)
		if got, want := r.Header.Get("RateLimit"), `"default";r=`+string(rune('2'-i)); !strings.HasPrefix(got, want) {
			t.Errorf("request %d: RateLimit %q, want %s...", i, got, want)
		}
		if r.Header.Get("RateLimit-Policy") != `"default";q=3;w=3` {
			t.Errorf("RateLimit-Policy %q", r.Header.Get("RateLimit-Policy"))
		}
	}
	r := list(alice)
	p := wantProblem(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "1" || p.Type != "urn:taskapi:problem:too-many-requests" {
		t.Errorf("429: Retry-After %q, %+v", r.Header.Get("Retry-After"), p)
	}
	wantStatus(t, list(s.Token("bob")), http.StatusOK)
	// Unauthenticated requests are refused before they cost anything.
	wantProblem(t, list(""), http.StatusUnauthorized)
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	wantStatus(t, list(alice), http.StatusOK)
}

// With Redis, instances share each user's bucket; with Redis down, requests go through.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379: %v", err)
	}
	prefix := "taskapi-test:" + rand.Text() + ":"
	policy := ratelimit.Policy{Rate: 0.5, Burst: 4}
	one := apitest.Start(t, apitest.Options{Limiter: ratelimit.NewRedis(client, policy, prefix)})
	two := apitest.Start(t, apitest.Options{Limiter: ratelimit.NewRedis(client, policy, prefix)})
	alice := one.Token("alice")
	allowed := 0
	for i := range 8 {
		s := one
		if i%2 == 1 {
			s = two
		}
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice})
		if r.Status == http.StatusOK {
			allowed++
		} else {
			wantProblem(t, r, http.StatusTooManyRequests)
		}
	}
	if allowed != 4 {
		t.Errorf("%d of 8 requests across two instances allowed, want the shared burst of 4", allowed)
	}

	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	logs := &apitest.LogBuffer{}
	s := apitest.Start(t, apitest.Options{Limiter: ratelimit.NewRedis(down, policy, prefix), Logs: logs})
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice}), http.StatusOK)
	if !strings.Contains(logs.String(), "rate limiter unavailable") {
		t.Error("a Redis outage is not logged")
	}
}
