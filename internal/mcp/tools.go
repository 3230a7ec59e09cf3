package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
	segjson "github.com/segmentio/encoding/json"

	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/ratelimit"
	"taskapi/internal/tasks"
)

// The tools' names and what each does, for the agent (Phase III's names).
const (
	addTask      = "add_task"
	listTasks    = "list_tasks"
	completeTask = "complete_task"
	deleteTask   = "delete_task"
	updateTask   = "update_task"
)

// listArguments are the list_tasks arguments, each a query parameter of GET /api/tasks.
var listArguments = []string{"status", "q", "priority", "tag", "sort", "limit", "cursor"}

// userIDSchema is the user_id argument Phase III's agents pass: accepted, checked, never used.
var userIDSchema = map[string]any{
	"type": "string",
	"description": "The signed-in user's id, as Phase III's agents pass it. Optional: the user is the bearer " +
		"token's; any other value fails as for a task that does not exist.",
}

// tools are the tool definitions, their schemas made from openapi.yaml's.
func tools(s specSchemas) []*mcpsdk.Tool {
	taskID := parameterSchema(s.taskID)
	taskID["description"] = "The task's id."
	task := jsonSchema(s.task)
	result := func(verb string) map[string]any {
		return objectSchema(map[string]any{
			"task_id": taskID,
			"status":  map[string]any{"type": "string", "enum": []any{verb}, "description": "What the tool did."},
			"title":   task["properties"].(map[string]any)["title"],
			"task":    task,
		}, "task_id", "status", "title", "task")
	}
	withUser := func(props map[string]any) map[string]any {
		props["user_id"] = userIDSchema
		return props
	}

	input := jsonSchema(s.taskInput)
	add := objectSchema(withUser(input["properties"].(map[string]any)), stringsOf(input["required"])...)

	patch := jsonSchema(s.taskPatch)
	updateProps := withUser(patch["properties"].(map[string]any))
	updateProps["task_id"] = taskID

	listProps := withUser(map[string]any{})
	for _, name := range listArguments {
		listProps[name] = parameterSchema(s.list[name])
	}
	page := objectSchema(map[string]any{
		"tasks":       map[string]any{"type": "array", "items": task, "description": "One page of the user's tasks."},
		"next_cursor": map[string]any{"type": []any{"string", "null"}, "description": "Pass it back as cursor for the next page; null on the last."},
	}, "tasks", "next_cursor")

	byID := func() map[string]any { return objectSchema(withUser(map[string]any{"task_id": taskID}), "task_id") }
	readOnly, idempotent, destructive := true, true, true
	return []*mcpsdk.Tool{
		{Name: addTask, Title: "Add a task", Description: "Create a task for the signed-in user. Only title is required; a recurring task (recurrence, an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=MO) needs a due_date.",
			InputSchema: add, OutputSchema: result("created")},
		{Name: listTasks, Title: "List tasks", Description: "List the signed-in user's tasks, newest first unless sort says otherwise, one page at a time; status is all, pending or completed; q searches titles and descriptions.",
			InputSchema: objectSchema(listProps), OutputSchema: page,
			Annotations: &mcpsdk.ToolAnnotations{ReadOnlyHint: readOnly, IdempotentHint: idempotent}},
		{Name: completeTask, Title: "Complete a task", Description: "Mark one of the user's tasks as completed (completing a recurring task creates its next occurrence).",
			InputSchema: byID(), OutputSchema: result("completed"),
			Annotations: &mcpsdk.ToolAnnotations{IdempotentHint: idempotent}},
		{Name: deleteTask, Title: "Delete a task", Description: "Delete one of the user's tasks for good.",
			InputSchema: byID(), OutputSchema: result("deleted"),
			Annotations: &mcpsdk.ToolAnnotations{DestructiveHint: &destructive}},
		{Name: updateTask, Title: "Update a task", Description: "Change some fields of one of the user's tasks; the others are kept. null clears description, due_date, recurrence or remind_at.",
			InputSchema: objectSchema(updateProps, "task_id"), OutputSchema: result("updated")},
	}
}

func stringsOf(v any) []string {
	list, _ := v.([]string)
	return list
}

// rest performs the REST request a tool call stands for, in-process, as the caller: the same
// route, validation, service, SQL and events as over HTTP. The call's own HTTP request has
// been authenticated and counted by the rate limiter already: this one is verified again (it
// carries the same token) but not counted again.
type rest struct {
	api http.Handler
}

// answer is the REST answer to a tool's request.
type answer struct {
	status int
	body   []byte
}

func (r rest) do(ctx context.Context, header http.Header, method, path string, query url.Values, body any) (answer, error) {
	var reader io.Reader = http.NoBody
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		reader = bytes.NewReader(data)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req := httptest.NewRequestWithContext(ratelimit.Counted(ctx), method, target, reader)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	auth.OnBehalf(req, header)
	req.Header.Set("X-Request-ID", header.Get("X-Request-ID"))
	// An argument the tool does not have is an error the agent should see, not a warning.
	req.Header.Set("Prefer", "handling=strict")
	rec := httptest.NewRecorder()
	r.api.ServeHTTP(rec, req)
	return answer{status: rec.Code, body: rec.Body.Bytes()}, nil
}

// failure is the tool error for a REST answer that is not a success: the problem's detail.
func (a answer) failure() *mcpsdk.CallToolResult {
	var p api.Problem
	if err := json.Unmarshal(a.body, &p); err != nil || p.Detail == "" {
		return toolError(http.StatusText(a.status))
	}
	return toolError(p.Detail)
}

func toolError(text string) *mcpsdk.CallToolResult {
	return &mcpsdk.CallToolResult{IsError: true, Content: []mcpsdk.Content{&mcpsdk.TextContent{Text: text}}}
}

// handler runs one tool call: the arguments, checked for a user_id that is not the caller's,
// become a REST request.
type handler func(ctx context.Context, header http.Header, args map[string]any) (*mcpsdk.CallToolResult, error)

// notFound is what a tool answers for a task the caller does not have, and for a user_id that
// is not the caller's: the REST API's own detail for a missing task.
var notFound = tasks.ErrNotFound.Detail

func (r rest) handlers() map[string]handler {
	return map[string]handler{
		addTask: func(ctx context.Context, h http.Header, args map[string]any) (*mcpsdk.CallToolResult, error) {
			a, err := r.do(ctx, h, http.MethodPost, "/api/tasks", nil, args)
			return taskResult(a, err, http.StatusCreated, "created")
		},
		listTasks: func(ctx context.Context, h http.Header, args map[string]any) (*mcpsdk.CallToolResult, error) {
			query := url.Values{}
			for name, v := range args {
				query.Set(name, queryValue(v))
			}
			a, err := r.do(ctx, h, http.MethodGet, "/api/tasks", query, nil)
			if err != nil {
				return nil, err
			}
			if a.status != http.StatusOK {
				return a.failure(), nil
			}
			return listResult(a.body)
		},
		completeTask: r.byID(http.MethodPatch, map[string]any{"completed": true}, "completed"),
		deleteTask: func(ctx context.Context, h http.Header, args map[string]any) (*mcpsdk.CallToolResult, error) {
			path, failed := taskPath(args)
			if failed != nil {
				return failed, nil
			}
			// The answer names the task: read it, then delete it.
			a, err := r.do(ctx, h, http.MethodGet, path, nil, nil)
			if err != nil || a.status != http.StatusOK {
				return taskResult(a, err, http.StatusOK, "deleted")
			}
			gone, err := r.do(ctx, h, http.MethodDelete, path, nil, nil)
			if err != nil {
				return nil, err
			}
			if gone.status != http.StatusNoContent {
				return gone.failure(), nil
			}
			return taskResult(a, nil, http.StatusOK, "deleted")
		},
		updateTask: func(ctx context.Context, h http.Header, args map[string]any) (*mcpsdk.CallToolResult, error) {
			path, failed := taskPath(args)
			if failed != nil {
				return failed, nil
			}
			delete(args, "task_id")
			a, err := r.do(ctx, h, http.MethodPatch, path, nil, args)
			return taskResult(a, err, http.StatusOK, "updated")
		},
	}
}

// byID is a tool that sends body to the task named by task_id.
func (r rest) byID(method string, body map[string]any, verb string) handler {
	return func(ctx context.Context, h http.Header, args map[string]any) (*mcpsdk.CallToolResult, error) {
		path, failed := taskPath(args)
		if failed != nil {
			return failed, nil
		}
		delete(args, "task_id")
		for name := range args { // the tool's only other argument, user_id, is gone by now
			return toolError(fmt.Sprintf("%s takes no argument %s", verb, name)), nil
		}
		a, err := r.do(ctx, h, method, path, nil, body)
		return taskResult(a, err, http.StatusOK, verb)
	}
}

// taskPath is the REST path of the task named by the task_id argument.
func taskPath(args map[string]any) (string, *mcpsdk.CallToolResult) {
	id, ok := args["task_id"].(string)
	if !ok || id == "" {
		return "", toolError("task_id is required: the task's id (a UUID)")
	}
	return "/api/tasks/" + url.PathEscape(id), nil
}

// taskResult is a tool's answer about one task: the REST API's task, as it came, under task.
func taskResult(a answer, err error, want int, verb string) (*mcpsdk.CallToolResult, error) {
	if err != nil {
		return nil, err
	}
	if a.status != want {
		return a.failure(), nil
	}
	var t brief
	if err := json.Unmarshal(a.body, &t); err != nil {
		return nil, err
	}
	return &mcpsdk.CallToolResult{
		Content:           []mcpsdk.Content{&mcpsdk.TextContent{Text: fmt.Sprintf("%s task %q (id %s).", capitalize(verb), t.Title, t.ID)}},
		StructuredContent: taskOutcome{TaskID: t.ID, Status: verb, Title: t.Title, Task: bytes.TrimSpace(a.body)},
	}, nil
}

type taskOutcome struct {
	TaskID string          `json:"task_id"`
	Status string          `json:"status"`
	Title  string          `json:"title"`
	Task   json.RawMessage `json:"task"`
}

// brief is what the text of an answer says of a task.
type brief struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Completed bool    `json:"completed"`
	Priority  string  `json:"priority"`
	DueDate   *string `json:"due_date"`
}

// pagePrefix starts every page the REST API answers (TestPageEncodingMatchesEncodingJSON in
// internal/tasks: its fields are api.TaskPage's, in order).
const pagePrefix, tasksPrefix = `{"items":`, `{"tasks":`

// listResult is list_tasks' answer: the REST API's page as it came, its items renamed tasks
// (no decoding and encoding again of twenty tasks), and lines of text.
func listResult(body []byte) (*mcpsdk.CallToolResult, error) {
	body = bytes.TrimSpace(body)
	if !bytes.HasPrefix(body, []byte(pagePrefix)) {
		return nil, fmt.Errorf("mcp: a page of tasks that does not start with %s", pagePrefix)
	}
	var page struct {
		Items      []brief `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	// A page is ~9 KiB of JSON that only the text reads, a few fields of each task: the
	// standard decoder's scan of it was a tenth of a call's CPU (bench/RESULTS.md).
	if err := segjson.Unmarshal(body, &page); err != nil {
		return nil, err
	}
	copy(body, tasksPrefix) // the same length: the page is renamed where it lies
	return &mcpsdk.CallToolResult{
		Content:           []mcpsdk.Content{&mcpsdk.TextContent{Text: listText(page.Items, page.NextCursor)}},
		StructuredContent: json.RawMessage(body),
	}, nil
}

// listText is a page of tasks as lines a model that reads only text can use.
func listText(tasks []brief, next *string) string {
	if len(tasks) == 0 {
		return "No tasks."
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(tasks)))
	b.WriteString(" task(s):")
	for _, t := range tasks {
		b.WriteString("\n[")
		if t.Completed {
			b.WriteByte('x')
		} else {
			b.WriteByte(' ')
		}
		b.WriteString("] ")
		b.WriteString(t.Title)
		b.WriteString(" (id ")
		b.WriteString(t.ID)
		b.WriteString(", ")
		b.WriteString(t.Priority)
		b.WriteString(" priority")
		if t.DueDate != nil {
			b.WriteString(", due ")
			b.WriteString(*t.DueDate)
		}
		b.WriteByte(')')
	}
	if next != nil {
		b.WriteString("\nMore tasks: call list_tasks again with cursor ")
		b.WriteString(*next)
	}
	return b.String()
}

// queryValue is an argument as a query parameter's value.
func queryValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	data, _ := json.Marshal(v)
	return string(data)
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
