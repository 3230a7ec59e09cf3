package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"taskapi/internal/apitest"
)

func list(t *testing.T, c *apitest.Client, token, query string) page {
	t.Helper()
	r := c.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?" + query, Token: token})
	wantStatus(t, r, http.StatusOK)
	var p page
	r.JSON(t, &p)
	return p
}

func titles(p page) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.Title
	}
	return out
}

// walk follows next_cursor from the first page to the last and returns every task seen.
func walk(t *testing.T, c *apitest.Client, token, query string) []task {
	t.Helper()
	var all []task
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the cursor walk does not end")
		}
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p := list(t, c, token, q)
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all
		}
		cursor = *p.NextCursor
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	create(t, s.Client, alice, map[string]any{"title": "Buy MILK", "priority": "high", "tags": []string{"shopping"}, "due_date": "2026-12-01T10:00:00Z"})
	create(t, s.Client, alice, map[string]any{"title": "Call mum", "description": "about the milkman", "tags": []string{"family"}, "completed": true})
	create(t, s.Client, alice, map[string]any{"title": "100% done_ish", "priority": "low", "tags": []string{"shopping", "work"}, "due_date": "2026-12-20T10:00:00Z"})
	create(t, s.Client, alice, map[string]any{"title": "Éclair recipe", "due_date": "2027-01-05T10:00:00Z"})
	create(t, s.Client, s.Token("bob"), map[string]any{"title": "Bob's milk", "tags": []string{"shopping"}})

	for _, tc := range []struct {
		query string
		want  []string // titles, newest first
	}{
		{"", []string{"Éclair recipe", "100% done_ish", "Call mum", "Buy MILK"}},
		{"status=all", []string{"Éclair recipe", "100% done_ish", "Call mum", "Buy MILK"}},
		{"status=completed", []string{"Call mum"}},
		{"status=pending", []string{"Éclair recipe", "100% done_ish", "Buy MILK"}},
		{"priority=high", []string{"Buy MILK"}},
		{"priority=medium", []string{"Éclair recipe", "Call mum"}},
		{"tag=shopping", []string{"100% done_ish", "Buy MILK"}},
		{"tag=Shopping", nil},
		{"tag=work&priority=low", []string{"100% done_ish"}},
		{"due_before=2026-12-20T10:00:00Z", []string{"Buy MILK"}},
		{"due_after=2026-12-01T10:00:00Z", []string{"Éclair recipe", "100% done_ish"}},
		{"due_after=2026-12-01T12:00:00%2B01:00&due_before=2027-01-01T00:00:00Z", []string{"100% done_ish"}},             // 11:00Z
		{"due_after=2026-12-01T11:00:00%2B02:00&due_before=2027-01-01T00:00:00Z", []string{"100% done_ish", "Buy MILK"}}, // 09:00Z
		{"q=milk", []string{"Call mum", "Buy MILK"}},                                                                     // title or description, any case
		{"q=MiLk&status=pending", []string{"Buy MILK"}},
		{"q=%25", []string{"100% done_ish"}}, // % is literal
		{"q=e_i", []string{"100% done_ish"}}, // _ is literal: "done_ish" matches, "recipe" would not
		{"q=_", []string{"100% done_ish"}},
		{"q=%5C", nil},                               // a backslash is literal too
		{"q=%C3%A9CLAIR", []string{"Éclair recipe"}}, // case folding beyond ASCII
		{"q=", []string{"Éclair recipe", "100% done_ish", "Call mum", "Buy MILK"}},
		{"q=nothing-like-this", nil},
	} {
		got := titles(list(t, s.Client, alice, tc.query))
		if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("?%s: got %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestListSorts(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	// Created in this order, so created_at ascending is a, b, c, d, e.
	create(t, s.Client, alice, map[string]any{"title": "banana", "priority": "high", "due_date": "2026-12-03T00:00:00Z"})
	b := create(t, s.Client, alice, map[string]any{"title": "Apple", "priority": "low"})
	create(t, s.Client, alice, map[string]any{"title": "cherry", "priority": "medium", "due_date": "2026-12-01T00:00:00Z"})
	create(t, s.Client, alice, map[string]any{"title": "apple", "priority": "high"})
	create(t, s.Client, alice, map[string]any{"title": "Zebra", "priority": "low", "due_date": "2026-12-02T00:00:00Z"})
	// Touch b last, so updated_at puts it at the end.
	time.Sleep(time.Millisecond)
	s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + b.ID, Token: alice, Body: map[string]any{"description": "touched"}})

	for _, tc := range []struct {
		sort string
		want []string
	}{
		{"", []string{"Zebra", "apple", "cherry", "Apple", "banana"}},
		{"-created_at", []string{"Zebra", "apple", "cherry", "Apple", "banana"}},
		{"created_at", []string{"banana", "Apple", "cherry", "apple", "Zebra"}},
		{"updated_at", []string{"banana", "cherry", "apple", "Zebra", "Apple"}},
		{"-updated_at", []string{"Apple", "Zebra", "apple", "cherry", "banana"}},
		{"title", []string{"apple", "Apple", "banana", "cherry", "Zebra"}}, // as people read, not byte order
		{"-title", []string{"Zebra", "cherry", "banana", "Apple", "apple"}},
		// By rank, ties by id (ids are time-ordered, so by creation).
		{"priority", []string{"Apple", "Zebra", "cherry", "banana", "apple"}},
		{"-priority", []string{"apple", "banana", "cherry", "Zebra", "Apple"}},
		// No due date comes last either way.
		{"due_date", []string{"cherry", "Zebra", "banana", "Apple", "apple"}},
		{"-due_date", []string{"banana", "Zebra", "cherry", "apple", "Apple"}},
	} {
		query := "sort=" + url.QueryEscape(tc.sort)
		if tc.sort == "" {
			query = "status=all"
		}
		if got := titles(list(t, s.Client, alice, query)); !slices.Equal(got, tc.want) {
			t.Errorf("sort=%s: got %q, want %q", tc.sort, got, tc.want)
		}
		// Walking one task per page gives the same order.
		var walked []string
		for _, it := range walk(t, s.Client, alice, query+"&limit=1") {
			walked = append(walked, it.Title)
		}
		if !slices.Equal(walked, tc.want) {
			t.Errorf("sort=%s walked one by one: %q, want %q", tc.sort, walked, tc.want)
		}
	}
}

func TestListLimit(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for i := range 105 {
		create(t, s.Client, alice, map[string]any{"title": fmt.Sprintf("task %03d", i)})
	}
	if p := list(t, s.Client, alice, ""); len(p.Items) != 20 || p.NextCursor == nil {
		t.Errorf("default page: %d items, next %v", len(p.Items), p.NextCursor)
	}
	if p := list(t, s.Client, alice, "limit=100"); len(p.Items) != 100 || p.NextCursor == nil {
		t.Errorf("limit=100: %d items", len(p.Items))
	}
	if p := list(t, s.Client, alice, "limit=1"); len(p.Items) != 1 || p.Items[0].Title != "task 104" {
		t.Errorf("limit=1: %q", titles(p))
	}
	// A last page that is exactly full has no next cursor.
	if p := list(t, s.Client, alice, "limit=5&q=task+10"); len(p.Items) != 5 || p.NextCursor != nil {
		t.Errorf("exactly full last page: %d items, next %v", len(p.Items), p.NextCursor)
	}
}

// Every sort and a few filters: walking the cursor visits each matching task exactly once,
// including ties on the sort key and tasks without a due date.
func TestCursorVisitsEachTaskOnce(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	want := map[string]bool{}
	priorities := []string{"low", "medium", "high"}
	for i := range 37 {
		body := map[string]any{"title": fmt.Sprintf("t%d", i%5), "priority": priorities[i%3]} // many ties
		if i%4 != 0 {
			body["due_date"] = fmt.Sprintf("2026-12-%02dT00:00:00Z", 1+i%3)
		}
		if i%2 == 0 {
			body["tags"] = []string{"even"}
		}
		want[create(t, s.Client, alice, body).ID] = i%2 == 0
	}
	for _, sort := range []string{"created_at", "-created_at", "updated_at", "-updated_at", "title", "-title", "priority", "-priority", "due_date", "-due_date"} {
		for _, filter := range []string{"", "&tag=even"} {
			seen := map[string]int{}
			for _, it := range walk(t, s.Client, alice, "sort="+url.QueryEscape(sort)+"&limit=4"+filter) {
				seen[it.ID]++
			}
			for id, even := range want {
				expected := 1
				if filter != "" && !even {
					expected = 0
				}
				if seen[id] != expected {
					t.Errorf("sort=%s%s: task %s seen %d times, want %d", sort, filter, id, seen[id], expected)
				}
			}
			if len(seen) > len(want) {
				t.Errorf("sort=%s%s: saw tasks that are not alice's", sort, filter)
			}
		}
	}
}

// While one client walks its list, tasks are being added: every task that existed when the
// walk began is visited exactly once, and no task twice.
func TestCursorWithConcurrentInserts(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	before := map[string]bool{}
	for i := range 60 {
		before[create(t, s.Client, alice, map[string]any{"title": fmt.Sprintf("before %02d", i), "due_date": "2026-12-01T00:00:00Z"}).ID] = true
	}

	for _, sort := range []string{"-created_at", "created_at", "title", "due_date", "-priority"} {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.For(t)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice,
					Body: map[string]any{"title": fmt.Sprintf("during %s %d", sort, i), "priority": "high"}})
			}
		}()
		seen := map[string]int{}
		for _, it := range walk(t, s.Client, alice, "sort="+url.QueryEscape(sort)+"&limit=7") {
			seen[it.ID]++
		}
		close(stop)
		wg.Wait()
		for id := range before {
			if seen[id] != 1 {
				t.Errorf("sort=%s: a task that existed before the walk was seen %d times", sort, seen[id])
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("sort=%s: task %s seen %d times", sort, id, n)
			}
		}
	}
}

func TestCursorIsBoundToItsQuery(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, bob := s.Token("alice"), s.Token("bob")
	for i := range 5 {
		create(t, s.Client, alice, map[string]any{"title": fmt.Sprintf("a%d", i), "tags": []string{"x"}})
		create(t, s.Client, bob, map[string]any{"title": fmt.Sprintf("b%d", i), "tags": []string{"x"}})
	}
	first := list(t, s.Client, alice, "limit=2&tag=x&sort=title")
	cursor := url.QueryEscape(*first.NextCursor)

	// The same query continues.
	if next := list(t, s.Client, alice, "limit=2&tag=x&sort=title&cursor="+cursor); len(next.Items) != 2 || next.Items[0].Title != "a2" {
		t.Errorf("continuing: %q", titles(next))
	}
	// A different limit is still the same list.
	if next := list(t, s.Client, alice, "limit=3&tag=x&sort=title&cursor="+cursor); len(next.Items) != 3 {
		t.Errorf("continuing with another limit: %q", titles(next))
	}
	for name, req := range map[string]struct{ token, query string }{
		"another sort":      {alice, "limit=2&tag=x&sort=-title"},
		"the default sort":  {alice, "limit=2&tag=x"},
		"another filter":    {alice, "limit=2&tag=y&sort=title"},
		"a filter left out": {alice, "limit=2&sort=title"},
		"a filter added":    {alice, "limit=2&tag=x&sort=title&status=pending"},
		"another search":    {alice, "limit=2&tag=x&sort=title&q=a"},
		"another user":      {bob, "limit=2&tag=x&sort=title"},
		"another status":    {alice, "limit=2&tag=x&sort=title&status=completed"},
	} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?" + req.query + "&cursor=" + cursor, Token: req.token})
		wantProblem(t, r, http.StatusBadRequest, "cursor")
		if p := r.Problem(t); !strings.Contains(p.Detail, "cursor") {
			t.Errorf("%s: detail %q", name, p.Detail)
		}
	}
	// status=all is the default, so it is the same query as leaving status out.
	if next := list(t, s.Client, alice, "limit=2&tag=x&sort=title&status=all&cursor="+cursor); len(next.Items) != 2 {
		t.Errorf("status=all with a cursor made without it: %q", titles(next))
	}
}
