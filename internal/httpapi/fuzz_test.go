package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"taskapi/internal/apitest"
)

// Whatever the body, decoding a create answers 201 or a 4xx problem the spec describes (the
// client checks that), never a 5xx; a 201 stored a trimmed, non-blank title.
func FuzzCreateTask(f *testing.F) {
	for _, seed := range []string{
		`{"title":"Buy milk"}`,
		`{"title":"  x  ","description":null,"completed":true,"priority":"high","due_date":"2026-12-01T17:00:00Z","tags":["a","b"]}`,
		`{"title":""}`, `{}`, `[]`, `null`, `"x"`, `{"title":1}`, `{"title":"a","tags":["a","a"]}`,
		`{"title":"\u0000"}`, "{\"title\":\"\xff\"}", `{"title":"a","extra":1}`, `{"title":"a","due_date":"0000-01-01T00:00:00Z"}`,
		`{"title":"a"}{"title":"b"}`, `{"title":"a","title":"b"}`, `{"title":"` + strings.Repeat("é", 201) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	s := apitest.Start(f, apitest.Options{})
	token := s.Token("fuzzer")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := s.For(t).Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: body})
		switch r.Status {
		case http.StatusCreated:
			var got task
			r.JSON(t, &got)
			if got.Title == "" || got.Title != strings.TrimSpace(got.Title) || utf8.RuneCountInString(got.Title) > 200 {
				t.Errorf("stored title %q", got.Title)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		default:
			t.Errorf("status %d for body %q: %s", r.Status, body, r.Body)
		}
	})
}

// The same for merge patches, in both media types.
func FuzzPatchTask(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"title":"new"}`, `{"description":null,"due_date":null}`, `{"completed":true}`, `{"tags":[]}`,
		`{"title":null}`, `{"tags":null}`, `{"priority":"urgent"}`, `{"completed":"yes"}`, `[1]`, `{"id":"x"}`,
	} {
		f.Add([]byte(seed), true)
	}
	s := apitest.Start(f, apitest.Options{})
	token := s.Token("fuzzer")
	created := create(f, s.Client, token, map[string]any{"title": "target"})
	f.Fuzz(func(t *testing.T, body []byte, mergePatch bool) {
		contentType := "application/json"
		if mergePatch {
			contentType = "application/merge-patch+json"
		}
		r := s.For(t).Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + created.ID, Token: token, Body: body, ContentType: contentType})
		switch r.Status {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		default:
			t.Errorf("status %d for body %q: %s", r.Status, body, r.Body)
		}
	})
}
