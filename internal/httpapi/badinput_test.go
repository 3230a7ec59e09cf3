package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"taskapi/internal/apitest"
)

// Input the server cannot read is a 400, never a 500, and nothing is written.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	existing := create(t, s.Client, alice, map[string]any{"title": "existing"})
	item := "/api/tasks/" + existing.ID

	for _, tc := range []struct {
		name        string
		method      string
		path        string
		body        any
		contentType string
		field       string
		strict      bool // send Prefer: handling=strict
	}{
		{name: "malformed JSON", method: "POST", path: "/api/tasks", body: `{"title": "x"`},
		{name: "trailing garbage", method: "POST", path: "/api/tasks", body: `{"title": "x"} {}`},
		{name: "single quotes", method: "POST", path: "/api/tasks", body: `{'title': 'x'}`},
		{name: "an array", method: "POST", path: "/api/tasks", body: `[{"title": "x"}]`},
		{name: "a string", method: "POST", path: "/api/tasks", body: `"x"`},
		{name: "a number", method: "PUT", path: item, body: `42`},
		{name: "null", method: "POST", path: "/api/tasks", body: `null`},
		{name: "empty body", method: "POST", path: "/api/tasks", body: ``},
		{name: "whitespace body", method: "PATCH", path: item, body: "  \n"},
		{name: "title a number", method: "POST", path: "/api/tasks", body: `{"title": 123}`, field: "title"},
		{name: "title an object", method: "POST", path: "/api/tasks", body: `{"title": {"a":1}}`, field: "title"},
		{name: "completed a string", method: "PATCH", path: item, body: `{"completed": "true"}`, field: "completed"},
		{name: "completed a number", method: "PUT", path: item, body: `{"title":"x","completed": 1}`, field: "completed"},
		{name: "priority a number", method: "POST", path: "/api/tasks", body: `{"title":"x","priority": 2}`, field: "priority"},
		{name: "tags a string", method: "POST", path: "/api/tasks", body: `{"title":"x","tags": "a,b"}`, field: "tags"},
		{name: "tag a number", method: "POST", path: "/api/tasks", body: `{"title":"x","tags": ["a", 1]}`, field: "tags[1]"},
		{name: "due_date a number", method: "PATCH", path: item, body: `{"due_date": 1767225600}`, field: "due_date"},
		{name: "invalid UTF-8", method: "POST", path: "/api/tasks", body: []byte("{\"title\": \"\xff\xfe\"}")},
		{name: "raw NUL byte", method: "POST", path: "/api/tasks", body: []byte("{\"title\": \"a\x00b\"}")},
		{name: "bad escape", method: "POST", path: "/api/tasks", body: `{"title": "\x"}`},
		{name: "non-UUID id", method: "GET", path: "/api/tasks/123"},
		{name: "non-UUID id on PUT", method: "PUT", path: "/api/tasks/abc", body: `{"title":"x"}`},
		{name: "non-UUID id on PATCH", method: "PATCH", path: "/api/tasks/abc", body: `{}`},
		{name: "non-UUID id on DELETE", method: "DELETE", path: "/api/tasks/" + existing.ID + "0"},
		{name: "UUID in braces", method: "GET", path: "/api/tasks/%7B" + existing.ID + "%7D"},
		{name: "UUID without hyphens", method: "GET", path: "/api/tasks/" + strings.ReplaceAll(existing.ID, "-", "")},
		{name: "NUL in the id", method: "GET", path: "/api/tasks/%00"},
		{name: "limit 0", method: "GET", path: "/api/tasks?limit=0", field: "limit"},
		{name: "limit 101", method: "GET", path: "/api/tasks?limit=101", field: "limit"},
		{name: "limit not a number", method: "GET", path: "/api/tasks?limit=ten", field: "limit"},
		{name: "limit a float", method: "GET", path: "/api/tasks?limit=1.5", field: "limit"},
		{name: "limit twice", method: "GET", path: "/api/tasks?limit=1&limit=2", field: "limit"},
		{name: "unknown status", method: "GET", path: "/api/tasks?status=done", field: "status"},
		{name: "unknown priority", method: "GET", path: "/api/tasks?priority=urgent", field: "priority"},
		{name: "unknown sort", method: "GET", path: "/api/tasks?sort=-id", field: "sort"},
		{name: "bad due_before", method: "GET", path: "/api/tasks?due_before=tomorrow", field: "due_before"},
		{name: "due_after without offset", method: "GET", path: "/api/tasks?due_after=2026-01-01T00:00:00", field: "due_after"},
		{name: "tag too long", method: "GET", path: "/api/tasks?tag=" + strings.Repeat("x", 31), field: "tag"},
		{name: "unknown parameter, strict", method: "GET", path: "/api/tasks?colour=red", field: "colour", strict: true},
		{name: "unknown parameter with a NUL, strict", method: "GET", path: "/api/tasks?c%00=x", strict: true},
		{name: "NUL in q", method: "GET", path: "/api/tasks?q=a%00b", field: "q"},
		{name: "invalid UTF-8 in q", method: "GET", path: "/api/tasks?q=%ff%fe", field: "q"},
		{name: "invalid UTF-8 in tag", method: "GET", path: "/api/tasks?tag=%c3%28", field: "tag"},
		{name: "malformed query string", method: "GET", path: "/api/tasks?q=%zz"},
		{name: "garbage cursor", method: "GET", path: "/api/tasks?cursor=garbage!", field: "cursor"},
		{name: "base64 but not a cursor", method: "GET", path: "/api/tasks?cursor=eyJhIjoxfQ", field: "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var header http.Header
			if tc.strict {
				header = http.Header{"Prefer": {"handling=strict"}}
			}
			r := s.For(t).Do(apitest.Request{Method: tc.method, Path: tc.path, Token: alice, Body: tc.body, ContentType: tc.contentType, Header: header})
			var fields []string
			if tc.field != "" {
				fields = append(fields, tc.field)
			}
			p := wantProblem(t, r, http.StatusBadRequest, fields...)
			if p.Type != "urn:taskapi:problem:bad-request" || p.Detail == "" {
				t.Errorf("problem %+v", p)
			}
		})
	}

	var count int
	if err := s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM tasks").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if _, after := get(t, s.Client, alice, existing.ID); count != 1 || after.UpdatedAt != existing.UpdatedAt {
		t.Errorf("malformed requests wrote: %d tasks, task now %+v", count, after)
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	existing := create(t, s.Client, alice, map[string]any{"title": "existing"})
	for _, tc := range []struct{ method, path, contentType string }{
		{"POST", "/api/tasks", "text/plain"},
		{"POST", "/api/tasks", "application/xml"},
		{"POST", "/api/tasks", "application/x-www-form-urlencoded"},
		{"POST", "/api/tasks", "application/merge-patch+json"}, // only PATCH takes a merge patch
		{"POST", "/api/tasks", "application/json; charset=iso-8859-1"},
		{"PUT", "/api/tasks/" + existing.ID, "text/json"},
		{"PATCH", "/api/tasks/" + existing.ID, "application/json-patch+json"},
		{"POST", "/api/tasks", "not a media type"},
	} {
		r := s.Do(apitest.Request{Method: tc.method, Path: tc.path, Token: alice, Body: `{"title":"x"}`, ContentType: tc.contentType})
		p := wantProblem(t, r, http.StatusUnsupportedMediaType)
		if !strings.Contains(p.Detail, "application/json") {
			t.Errorf("%s: the detail does not say what is accepted: %q", tc.contentType, p.Detail)
		}
	}
	// No Content-Type at all, with a body.
	req, _ := http.NewRequest(http.MethodPost, s.BaseURL+"/api/tasks", strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	wantProblem(t, s.Send(req), http.StatusUnsupportedMediaType)
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{}) // the default limit, 1 MiB
	alice := s.Token("alice")
	big := `{"title":"x","description":"` + strings.Repeat("a", 1<<20) + `"}`
	p := wantProblem(t, s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: big}), http.StatusRequestEntityTooLarge)
	if !strings.Contains(p.Detail, "1048576") {
		t.Errorf("detail %q does not give the limit", p.Detail)
	}
	// Without a Content-Length the limit still holds while reading.
	req, _ := http.NewRequest(http.MethodPost, s.BaseURL+"/api/tasks", struct{ *bytes.Reader }{bytes.NewReader([]byte(big))})
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json")
	wantProblem(t, s.Send(req), http.StatusRequestEntityTooLarge)

	// The limit is configurable.
	small := apitest.Start(t, apitest.Options{MaxBodyBytes: 100})
	body := map[string]any{"title": strings.Repeat("x", 120)}
	wantProblem(t, small.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: small.Token("a"), Body: body}), http.StatusRequestEntityTooLarge)
	create(t, small.Client, small.Token("a"), map[string]any{"title": "fits"})
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 404},
		{"GET", "/api", 404},
		{"GET", "/api/task", 404},
		{"GET", "/api/tasks/" + "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e/extra", 404},
		{"GET", "/nope?x=%00", 404},
		{"DELETE", "/api/tasks", 405},
		{"POST", "/api/tasks/0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e", 405},
		{"POST", "/healthz", 405},
		{"PUT", "/docs", 405},
	} {
		r := s.Do(apitest.Request{Method: tc.method, Path: tc.path, Token: alice})
		p := wantProblem(t, r, tc.status)
		if tc.status == 405 && r.Header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
		if p.Detail == "" {
			t.Errorf("%s %s: empty detail", tc.method, tc.path)
		}
	}
}

// A fault on our side is logged with the request id and answered without a word about it:
// no SQL, no stack, no driver message.
func TestServerErrorsAreGeneric(t *testing.T) {
	t.Parallel()
	logs := &apitest.LogBuffer{}
	s := apitest.Start(t, apitest.Options{Logs: logs})
	alice := s.Token("alice")
	if _, err := s.Pool.Exec(context.Background(), "ALTER TABLE tasks RENAME TO tasks_gone"); err != nil {
		t.Fatal(err)
	}
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice})
	p := wantProblem(t, r, http.StatusInternalServerError)
	for _, leak := range []string{"tasks_gone", "SQL", "relation", "does not exist", "pgx", "goroutine", alice} {
		if strings.Contains(string(r.Body), leak) {
			t.Errorf("the 500 body mentions %q: %s", leak, r.Body)
		}
	}
	logged := logs.String()
	if !strings.Contains(logged, `"request_id":"`+p.RequestID+`"`) || !strings.Contains(logged, "does not exist") {
		t.Errorf("the log does not hold the request id %s and the cause:\n%s", p.RequestID, logged)
	}
	if strings.Contains(logged, alice) {
		t.Errorf("the log holds the token")
	}
}
