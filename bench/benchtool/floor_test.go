package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"taskapi/internal/apitest"
	"taskapi/internal/tasks"
)

// The floor is only a fair measure of the stack if it does the server's work for list: the
// same query, rows and encoding, so the same bytes.
func TestFloorAnswersListAsTheServerDoes(t *testing.T) {
	srv := apitest.Start(t, apitest.Options{})
	alice, bob := srv.Token("user-1"), srv.Token("user-2")
	for i := range 23 { // more than a page, so the answer carries a next cursor
		srv.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{
			"title": fmt.Sprintf("Task %d <&> \u2028 é", i), "description": "d", "tags": []string{"a", "b"},
			"priority": "high", "completed": i%3 == 0, "due_date": "2027-01-02T03:04:05.123456Z",
		}})
	}
	srv.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: bob, Body: map[string]any{"title": "Bob's"}})

	floor := httptest.NewServer(floorHandler(tasks.New(srv.Pool, nil), map[string]string{
		"Bearer " + alice: "user-1", "Bearer " + bob: "user-2",
	}))
	defer floor.Close()

	for _, c := range []struct{ token, query string }{
		{alice, "?limit=20"}, {alice, ""}, {alice, "?limit=5"}, {bob, "?limit=20"},
	} {
		want := srv.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks" + c.query, Token: c.token})
		if want.Status != http.StatusOK {
			t.Fatalf("server: %d %s", want.Status, want.Body)
		}
		req, err := http.NewRequest(http.MethodGet, floor.URL+"/api/tasks"+c.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want.Header.Get("Content-Type") || !bytes.Equal(got, want.Body) {
			t.Errorf("GET /api/tasks%s: floor answered %d %s\n%s\nthe server %d %s\n%s", c.query,
				resp.StatusCode, resp.Header.Get("Content-Type"), got, want.Status, want.Header.Get("Content-Type"), want.Body)
		}
	}

	resp, err := http.Get(floor.URL + "/api/tasks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a known token the floor answered %d, want 401", resp.StatusCode)
	}
}
