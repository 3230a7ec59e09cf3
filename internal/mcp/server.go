// Package mcp serves the tasks to AI agents: an MCP server (Streamable HTTP, stateless, on the
// official Go SDK) whose tools are Phase III's add_task, list_tasks, complete_task, delete_task
// and update_task. The tools' schemas are made at start from openapi.yaml's, and each call is
// the REST request it stands for, served in-process by the same router, middleware, validation
// and service as over HTTP: an agent is just another client, with the same user, isolation,
// rules and events.
package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"taskapi/internal/auth"
)

// Server is the MCP server: its tools, and the REST API they call.
type Server struct {
	sdk   *mcpsdk.Server
	tools []*mcpsdk.Tool
}

// New makes the MCP server of the spec's tasks; its tool calls are requests to api (the REST
// API's handler).
func New(spec *openapi3.T, api http.Handler, logger *slog.Logger) (*Server, error) {
	schemas, err := schemasOf(spec)
	if err != nil {
		return nil, err
	}
	s := &Server{
		sdk: mcpsdk.NewServer(&mcpsdk.Implementation{Name: "taskapi", Title: spec.Info.Title, Version: spec.Info.Version},
			&mcpsdk.ServerOptions{Logger: logger, Instructions: instructions}),
		tools: tools(schemas),
	}
	handlers := rest{api: api}.handlers()
	for _, t := range s.tools {
		h := handlers[t.Name]
		if h == nil {
			return nil, fmt.Errorf("mcp: no handler for the tool %s", t.Name)
		}
		allowed := t.InputSchema.(map[string]any)["properties"].(map[string]any)
		s.sdk.AddTool(t, func(ctx context.Context, req *mcpsdk.CallToolRequest) (*mcpsdk.CallToolResult, error) {
			return call(ctx, req, allowed, h)
		})
	}
	return s, nil
}

const instructions = "taskapi keeps the signed-in user's tasks. Use list_tasks to find tasks (q searches text), " +
	"add_task to create one, update_task to change fields, complete_task to mark one done and delete_task to remove " +
	"one. Tasks are named by their id (task_id), which list_tasks and add_task return."

// Handler is the Streamable HTTP transport, stateless: any replica answers any request, with no
// session to keep. It expects an authenticated request (the user on its context, the token
// in its header: the tool calls send it on).
func (s *Server) Handler() http.Handler {
	return mcpsdk.NewStreamableHTTPHandler(func(*http.Request) *mcpsdk.Server { return s.sdk },
		&mcpsdk.StreamableHTTPOptions{
			Stateless:    true,
			JSONResponse: true,
			// The SDK's DNS-rebinding guard refuses a request reaching a loopback address under
			// another Host, which is every request behind a reverse proxy on the same machine.
			// It protects unauthenticated local servers; every request here carries a token a
			// rebinding page cannot have.
			DisableLocalhostProtection: true,
		})
}

// Transport makes the MCP transport of the REST API api, as httpapi.Deps.MCP wants it.
func Transport(spec *openapi3.T, logger *slog.Logger) func(api http.Handler) (http.Handler, error) {
	return func(api http.Handler) (http.Handler, error) {
		s, err := New(spec, api, logger)
		if err != nil {
			return nil, err
		}
		return s.Handler(), nil
	}
}

// Tools are the tools' definitions (for tests and documentation).
func (s *Server) Tools() []*mcpsdk.Tool { return s.tools }

// call runs a tool call: its arguments are decoded and checked against the tool's (no
// unknown names, no user_id but the caller's) and handed to the tool's handler.
func call(ctx context.Context, req *mcpsdk.CallToolRequest, allowed map[string]any, h handler) (*mcpsdk.CallToolResult, error) {
	user, ok := auth.UserID(ctx) // from the auth middleware, through the request's context
	if !ok {
		return nil, errors.New("mcp: a tool call without an authenticated user")
	}
	args := map[string]any{}
	if raw := req.Params.Arguments; len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil {
			return toolError("the arguments must be a JSON object"), nil
		}
	}
	for _, name := range slices.Sorted(maps.Keys(args)) {
		if _, known := allowed[name]; !known {
			return toolError(fmt.Sprintf("%s has no argument %q; it takes %v", req.Params.Name, name, slices.Sorted(maps.Keys(allowed)))), nil
		}
	}
	if id, given := args["user_id"]; given {
		if id != user { // the user is the token's; another one's tasks do not exist for this caller
			return toolError(notFound), nil
		}
		delete(args, "user_id")
	}
	var header http.Header
	if req.Extra != nil {
		header = req.Extra.Header
	}
	return h(ctx, header, args)
}
