package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"taskapi/internal/apitest"
)

// BenchmarkListTasks is a page of 20 tasks through REST (GET /api/tasks) and through MCP
// (list_tasks, one stateless request per call, as the bench's mcp-list sends it), on one
// server; compare their ns/op, or profile one with -cpuprofile.
func BenchmarkListTasks(b *testing.B) {
	s := apitest.Start(b, apitest.Options{NoMetrics: true})
	token := s.Token("bench-user")
	for i := range 20 {
		s.Client.For(b).Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: map[string]any{
			"title":       fmt.Sprintf("Task %d of bench-user", i),
			"description": "Seeded description: lorem ipsum dolor sit amet, consectetur adipiscing elit.",
			"priority":    "medium", "due_date": "2027-01-05T09:00:00Z", "tags": []string{"home", "errands"},
		}})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	run := func(b *testing.B, request func() *http.Request) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := client.Do(request())
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Errorf("status %d", res.StatusCode)
					return
				}
				b.SetBytes(n)
			}
		})
	}
	b.Run("rest", func(b *testing.B) {
		run(b, func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/tasks?limit=20", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			return req
		})
	})
	const call = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tasks","arguments":{"limit":20}}}`
	mcpCall := func(url string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(call))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
			return req
		}
	}
	b.Run("mcp", func(b *testing.B) { run(b, mcpCall(s.URL+"/mcp")) })
	// The SDK on its own: the same stateless transport answering list_tasks with the same
	// result, made once (no token check, no REST request, no database): the part of a call
	// that is the SDK's, whatever taskapi does.
	b.Run("sdk-only", func(b *testing.B) {
		res, err := client.Do(mcpCall(s.URL + "/mcp")())
		if err != nil {
			b.Fatal(err)
		}
		var answer struct {
			Result *mcpsdk.CallToolResult `json:"result"`
		}
		if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || answer.Result == nil {
			b.Fatalf("decoding the answer: %v", err)
		}
		res.Body.Close()
		structured, err := json.Marshal(answer.Result.StructuredContent)
		if err != nil {
			b.Fatal(err)
		}
		result := &mcpsdk.CallToolResult{Content: answer.Result.Content, StructuredContent: json.RawMessage(structured)}
		server := mcpsdk.NewServer(&mcpsdk.Implementation{Name: "sdk-only", Version: "1"}, nil)
		server.AddTool(&mcpsdk.Tool{Name: "list_tasks", InputSchema: map[string]any{"type": "object"}},
			func(context.Context, *mcpsdk.CallToolRequest) (*mcpsdk.CallToolResult, error) { return result, nil })
		sdk := httptest.NewServer(mcpsdk.NewStreamableHTTPHandler(func(*http.Request) *mcpsdk.Server { return server },
			&mcpsdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, DisableLocalhostProtection: true}))
		defer sdk.Close()
		run(b, mcpCall(sdk.URL))
	})
}
