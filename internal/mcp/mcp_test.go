package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"taskapi/internal/apitest"
	"taskapi/internal/auth"
	"taskapi/internal/ratelimit"
	"taskapi/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// bearer sends a token with every request, as an agent's MCP client configured with an
// Authorization header does.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// connect opens an MCP client session to the server at base as the token's user.
func connect(t *testing.T, base, token string, rt http.RoundTripper, version string) *mcpsdk.ClientSession {
	t.Helper()
	session, err := dial(base, token, rt, version)
	if err != nil {
		t.Fatalf("connecting to %s/mcp: %v", base, err)
	}
	t.Cleanup(func() { session.Close() })
	return session
}

func dial(base, token string, rt http.RoundTripper, version string) (*mcpsdk.ClientSession, error) {
	client := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "taskapi-test", Version: "1"}, nil)
	transport := &mcpsdk.StreamableClientTransport{
		Endpoint:   base + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{token: token, next: rt}, Timeout: 30 * time.Second},
		MaxRetries: -1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return client.Connect(ctx, transport, &mcpsdk.ClientSessionOptions{ProtocolVersion: version})
}

// result is a tool call's answer: its text, its structured content, whether it is an error.
type result struct {
	isError    bool
	text       string
	structured map[string]any
}

// call calls a tool and checks its structured content against the tool's output schema.
func call(t *testing.T, s *mcpsdk.ClientSession, tool string, args map[string]any) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcpsdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	var r result
	r.isError = res.IsError
	for _, c := range res.Content {
		if text, ok := c.(*mcpsdk.TextContent); ok {
			r.text += text.Text
		}
	}
	if r.text == "" {
		t.Errorf("%s: no text content for models that read only text", tool)
	}
	if res.IsError {
		return r
	}
	data, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r.structured); err != nil {
		t.Fatalf("%s: structured content %s: %v", tool, data, err)
	}
	if err := outputSchema(t, s, tool).Validate(r.structured); err != nil {
		t.Errorf("%s: the structured content does not match the tool's output schema: %v\n%s", tool, err, data)
	}
	return r
}

// outputSchema is the tool's output schema as the server lists it, resolved for validation
// (formats included, as the TypeScript SDK's Ajv checks them).
func outputSchema(t *testing.T, s *mcpsdk.ClientSession, name string) *jsonschema.Resolved {
	t.Helper()
	for _, tool := range listTools(t, s) {
		if tool.Name == name {
			return resolve(t, tool.OutputSchema)
		}
	}
	t.Fatalf("no tool %s", name)
	return nil
}

func resolve(t *testing.T, schema any) *jsonschema.Resolved {
	t.Helper()
	data, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	var js jsonschema.Schema
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	resolved, err := js.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		t.Fatalf("the schema does not resolve: %v\n%s", err, data)
	}
	return resolved
}

func listTools(t *testing.T, s *mcpsdk.ClientSession) []*mcpsdk.Tool {
	t.Helper()
	res, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Tools
}

// restDetail is the problem detail the REST API answers a request with.
func restDetail(t *testing.T, s *apitest.Server, req apitest.Request, want int) string {
	t.Helper()
	r := s.Client.For(t).Do(req)
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.Path, r.Status, want, r.Body)
	}
	return r.Problem(t).Detail
}

// An agent initializes, lists the five tools and uses each; what it does is what the REST API
// sees, with the same events.
func TestEveryToolOverHTTP(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "agent-user"
	token := s.Token(user)
	for _, version := range []string{"", "2025-11-25", "2025-06-18"} {
		t.Run("protocol "+version, func(t *testing.T) {
			session := connect(t, s.URL, token, nil, version)
			var names []string
			for _, tool := range listTools(t, session) {
				names = append(names, tool.Name)
				if tool.InputSchema == nil || tool.OutputSchema == nil || tool.Description == "" {
					t.Errorf("%s: schemas or description missing", tool.Name)
				}
			}
			slices.Sort(names)
			if want := []string{"add_task", "complete_task", "delete_task", "list_tasks", "update_task"}; !slices.Equal(names, want) {
				t.Errorf("tools %v, want %v", names, want)
			}
		})
	}

	session := connect(t, s.URL, token, nil, "")
	var cursor string
	s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/changes", Token: token}).JSON(t, &struct {
		NextCursor *string `json:"next_cursor"`
	}{&cursor})

	added := call(t, session, "add_task", map[string]any{"user_id": user, "title": "Buy oat milk", "description": "two litres",
		"priority": "high", "due_date": "2027-01-05T09:00:00Z", "tags": []any{"shopping"}})
	if added.isError || added.structured["status"] != "created" || added.structured["title"] != "Buy oat milk" {
		t.Fatalf("add_task: %+v", added)
	}
	id := added.structured["task_id"].(string)
	if !strings.Contains(added.text, "Buy oat milk") || !strings.Contains(added.text, id) {
		t.Errorf("add_task's text: %q", added.text)
	}
	var stored struct {
		Title    string   `json:"title"`
		Priority string   `json:"priority"`
		Tags     []string `json:"tags"`
		Done     bool     `json:"completed"`
	}
	s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + id, Token: token}).JSON(t, &stored)
	if stored.Title != "Buy oat milk" || stored.Priority != "high" || !slices.Equal(stored.Tags, []string{"shopping"}) {
		t.Errorf("the REST API sees %+v", stored)
	}
	call(t, session, "add_task", map[string]any{"title": "Walk the dog"})

	listed := call(t, session, "list_tasks", map[string]any{"status": "pending", "q": "oat", "limit": 5})
	tasks, _ := listed.structured["tasks"].([]any)
	if listed.isError || len(tasks) != 1 || tasks[0].(map[string]any)["id"] != id || !strings.Contains(listed.text, "Buy oat milk") {
		t.Errorf("list_tasks: %+v", listed)
	}
	page := call(t, session, "list_tasks", map[string]any{"limit": 1, "sort": "title"})
	if first := page.structured["tasks"].([]any); len(first) != 1 || first[0].(map[string]any)["title"] != "Buy oat milk" || page.structured["next_cursor"] == nil {
		t.Fatalf("list_tasks, page 1 of 2: %+v", page.structured)
	}
	next := call(t, session, "list_tasks", map[string]any{"limit": 1, "sort": "title", "cursor": page.structured["next_cursor"]})
	if second := next.structured["tasks"].([]any); len(second) != 1 || second[0].(map[string]any)["title"] != "Walk the dog" || next.structured["next_cursor"] != nil {
		t.Errorf("list_tasks, page 2 of 2: %+v", next.structured)
	}

	updated := call(t, session, "update_task", map[string]any{"task_id": id, "title": "Buy soy milk", "due_date": nil})
	if updated.isError || updated.structured["status"] != "updated" || updated.structured["title"] != "Buy soy milk" ||
		updated.structured["task"].(map[string]any)["due_date"] != nil {
		t.Errorf("update_task: %+v", updated)
	}
	completed := call(t, session, "complete_task", map[string]any{"task_id": id, "user_id": user})
	if completed.isError || completed.structured["status"] != "completed" || completed.structured["task"].(map[string]any)["completed"] != true {
		t.Errorf("complete_task: %+v", completed)
	}
	if again := call(t, session, "complete_task", map[string]any{"task_id": id}); again.isError || again.structured["task"].(map[string]any)["completed"] != true {
		t.Errorf("complete_task twice reopened it: %+v", again)
	}
	deleted := call(t, session, "delete_task", map[string]any{"task_id": id})
	if deleted.isError || deleted.structured["status"] != "deleted" || deleted.structured["title"] != "Buy soy milk" {
		t.Errorf("delete_task: %+v", deleted)
	}
	if r := s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + id, Token: token}); r.Status != http.StatusNotFound {
		t.Errorf("after delete_task, GET: %d", r.Status)
	}

	// The same events as the REST routes make.
	var feed struct {
		Items []struct {
			Type   string `json:"type"`
			TaskID string `json:"task_id"`
		} `json:"items"`
	}
	s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/changes?since=" + cursor, Token: token}).JSON(t, &feed)
	var types []string
	for _, e := range feed.Items {
		if e.TaskID == id {
			types = append(types, e.Type)
		}
	}
	if want := []string{"task.created", "task.updated", "task.completed", "task.deleted"}; !slices.Equal(types, want) {
		t.Errorf("the events of the task: %v, want %v", types, want)
	}
}

// A call the REST API would refuse is a tool error whose text is the REST problem's detail;
// an argument a tool does not have is one too.
func TestToolErrorsAreTheAPIsProblems(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	token := s.Token("careless")
	session := connect(t, s.URL, token, nil, "")
	strict := http.Header{"Prefer": {"handling=strict"}}
	missing := "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e"
	id := call(t, session, "add_task", map[string]any{"title": "exists"}).structured["task_id"].(string)

	for _, tc := range []struct {
		tool string
		args map[string]any
		rest apitest.Request
		want int
	}{
		{"add_task", map[string]any{"title": "   "}, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Body: map[string]any{"title": "   "}}, 422},
		{"add_task", map[string]any{"title": "x", "priority": "urgent"}, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Body: map[string]any{"title": "x", "priority": "urgent"}}, 422},
		{"add_task", map[string]any{"title": strings.Repeat("é", 201)}, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Body: map[string]any{"title": strings.Repeat("é", 201)}}, 422},
		{"add_task", map[string]any{"title": "weekly", "recurrence": "FREQ=WEEKLY"}, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Body: map[string]any{"title": "weekly", "recurrence": "FREQ=WEEKLY"}}, 422},
		{"update_task", map[string]any{"task_id": id, "tags": []any{"a", "a"}}, apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + id, Body: map[string]any{"tags": []any{"a", "a"}}}, 422},
		{"list_tasks", map[string]any{"limit": 500}, apitest.Request{Method: http.MethodGet, Path: "/api/tasks?limit=500"}, 400},
		{"list_tasks", map[string]any{"status": "done"}, apitest.Request{Method: http.MethodGet, Path: "/api/tasks?status=done"}, 400},
		{"complete_task", map[string]any{"task_id": missing}, apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + missing}, 404},
		{"delete_task", map[string]any{"task_id": missing}, apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + missing}, 404},
		{"update_task", map[string]any{"task_id": "not-a-uuid", "title": "x"}, apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/not-a-uuid", Body: map[string]any{"title": "x"}}, 400},
	} {
		tc.rest.Token, tc.rest.Header = token, strict
		want := restDetail(t, s, tc.rest, tc.want)
		got := call(t, session, tc.tool, tc.args)
		if !got.isError || got.text != want {
			t.Errorf("%s %v: error %v, text %q; the REST API's detail: %q", tc.tool, tc.args, got.isError, got.text, want)
		}
	}

	for tool, args := range map[string]map[string]any{
		"add_task":      {"title": "x", "colour": "red"},
		"list_tasks":    {"page": 2},
		"complete_task": {"task_id": id, "title": "x"},
		"delete_task":   {},
	} {
		if got := call(t, session, tool, args); !got.isError {
			t.Errorf("%s %v: no error: %+v", tool, args, got)
		}
	}
	if n := len(call(t, session, "list_tasks", nil).structured["tasks"].([]any)); n != 1 {
		t.Errorf("the refused calls wrote something: %d tasks", n)
	}
}

// Two users: neither sees, changes nor can detect the other's tasks, whatever user_id or
// task_id an agent passes.
func TestToolsIsolateUsers(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := connect(t, s.URL, s.Token("alice"), nil, "")
	bob := connect(t, s.URL, s.Token("bob"), nil, "")
	hers := call(t, alice, "add_task", map[string]any{"title": "alice's secret"}).structured["task_id"].(string)
	missing := "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e"
	notFound := call(t, bob, "complete_task", map[string]any{"task_id": missing})

	if got := call(t, bob, "list_tasks", nil); len(got.structured["tasks"].([]any)) != 0 {
		t.Errorf("bob lists %v", got.structured)
	}
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"complete_task", map[string]any{"task_id": hers}},
		{"delete_task", map[string]any{"task_id": hers}},
		{"update_task", map[string]any{"task_id": hers, "title": "mine now"}},
		{"complete_task", map[string]any{"task_id": hers, "user_id": "alice"}},
		{"list_tasks", map[string]any{"user_id": "alice"}},
		{"add_task", map[string]any{"user_id": "alice", "title": "planted"}},
		{"update_task", map[string]any{"task_id": missing, "user_id": "", "title": "x"}},
	} {
		got := call(t, bob, c.tool, c.args)
		if !got.isError || got.text != notFound.text {
			t.Errorf("bob's %s %v: %+v; want the error of a task that does not exist (%q)", c.tool, c.args, got, notFound.text)
		}
	}
	mine := call(t, alice, "list_tasks", nil).structured["tasks"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["title"] != "alice's secret" || mine[0].(map[string]any)["completed"] != false {
		t.Errorf("alice's tasks after bob's attempts: %v", mine)
	}
}

// Without a valid token the endpoint answers 401 with a challenge naming the protected
// resource metadata, which tells a client where tokens come from.
func TestMCPNeedsAValidToken(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{AuthorizationServers: []string{"https://auth.example.com"}})
	forged, err := auth.Mint([]byte("another-secret-0123456789abcdef-0123456789"), auth.Claims{Subject: "alice", IssuedAt: time.Now(), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := auth.Mint(apitest.Secret, auth.Claims{Subject: "alice", IssuedAt: time.Now().Add(-2 * time.Hour), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	metadata := s.URL + "/.well-known/oauth-protected-resource"
	for name, token := range map[string]string{"none": "", "forged": forged, "expired": expired} {
		header := http.Header{"Accept": {"application/json, text/event-stream"}}
		if token != "" {
			header.Set("Authorization", "Bearer "+token)
		}
		r := post(t, s, header, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `resource_metadata="`+metadata+`"`) {
			t.Errorf("%s token: %d, WWW-Authenticate %q", name, r.Status, r.Header.Get("WWW-Authenticate"))
		}
		if _, err := dial(s.URL, token, nil, ""); err == nil {
			t.Errorf("%s token: the MCP client connected", name)
		}
	}

	var m map[string]any
	r := s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/.well-known/oauth-protected-resource"})
	r.JSON(t, &m)
	if r.Status != http.StatusOK || m["resource"] != s.URL || fmt.Sprint(m["authorization_servers"]) != "[https://auth.example.com]" ||
		fmt.Sprint(m["bearer_methods_supported"]) != "[header]" {
		t.Errorf("protected resource metadata: %d %v", r.Status, m)
	}

	// What the transport refuses is a problem like any other refusal.
	good := http.Header{"Authorization": {"Bearer " + s.Token("alice")}}
	if r := post(t, s, good, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); r.Status != http.StatusBadRequest {
		t.Errorf("without Accept: %d %s", r.Status, r.Body)
	}
	good.Set("Accept", "application/json, text/event-stream")
	if r := s.Client.For(t).Do(apitest.Request{Method: http.MethodPost, Path: "/mcp", Token: s.Token("alice"), Header: good, Body: "x", ContentType: "text/plain"}); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("a text/plain body: %d %s", r.Status, r.Body)
	}
	if r := s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/mcp", Token: s.Token("alice")}); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET /mcp (a stateless server opens no stream): %d", r.Status)
	}
}

// post sends a JSON-RPC message to /mcp as it is, and checks the answer like every other.
func post(t *testing.T, s *apitest.Server, header http.Header, body string) *apitest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/json")
	return s.Client.For(t).Send(req)
}

// Every MCP request spends one of the user's rate-limit tokens, as a REST request does; a tool
// call does not spend a second one for the REST request it makes.
func TestMCPIsRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Limiter: ratelimit.NewMemory(ratelimit.Policy{Rate: 0.001, Burst: 4}, time.Now)})
	header := http.Header{"Accept": {"application/json, text/event-stream"}, "Authorization": {"Bearer " + s.Token("hasty")},
		"Mcp-Protocol-Version": {"2025-11-25"}}
	for i := range 4 {
		r := post(t, s, header, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"add_task","arguments":{"title":"t%d"}}}`, i, i))
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), `"isError":true`) {
			t.Fatalf("call %d of 4 (the burst): %d %s", i+1, r.Status, r.Body)
		}
	}
	r := post(t, s, header, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"list_tasks","arguments":{}}}`)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("the fifth call: %d %s", r.Status, r.Body)
	}
	other := connect(t, s.URL, s.Token("patient"), nil, "")
	if got := call(t, other, "list_tasks", nil); got.isError {
		t.Errorf("another user is limited too: %+v", got)
	}
}

// roundRobin sends each request to the next of several servers, as a load balancer without
// session affinity does.
type roundRobin struct {
	hosts []string
	next  atomic.Int64
}

func (rr *roundRobin) RoundTrip(r *http.Request) (*http.Response, error) {
	u, err := url.Parse(rr.hosts[int(rr.next.Add(1))%len(rr.hosts)])
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = u.Host, u.Host
	return http.DefaultTransport.RoundTrip(r)
}

// Stateless: one agent's session spread over two replicas (the real binary, one database)
// works, each request answered by whichever gets it.
func TestAStatelessSessionAcrossTwoReplicas(t *testing.T) {
	t.Parallel()
	dbURL := testdb.URL(t)
	var hosts []string
	for range 2 {
		p := apitest.StartBinary(t, "DATABASE_URL="+dbURL, "BETTER_AUTH_SECRET="+string(apitest.Secret), "RATE_LIMIT_RPS=0")
		hosts = append(hosts, p.BaseURL)
	}
	rr := &roundRobin{hosts: hosts}
	c := apitest.NewClient(t, hosts[0], apitest.Secret)
	session := connect(t, hosts[0], c.Token("roaming"), rr, "")
	var ids []string
	for i := range 4 {
		ids = append(ids, call(t, session, "add_task", map[string]any{"title": fmt.Sprint("task ", i)}).structured["task_id"].(string))
	}
	for _, id := range ids {
		if got := call(t, session, "complete_task", map[string]any{"task_id": id}); got.isError {
			t.Errorf("complete_task on the other replica: %+v", got)
		}
	}
	listed := call(t, session, "list_tasks", map[string]any{"status": "completed"})
	if n := len(listed.structured["tasks"].([]any)); n != 4 {
		t.Errorf("%d completed tasks, want 4", n)
	}
	if served := rr.next.Load(); served < 10 {
		t.Errorf("only %d requests went through the balancer", served)
	}
}
