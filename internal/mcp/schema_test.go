package mcp_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"taskapi/internal/apitest"
	"taskapi/internal/mcp"
)

// The tools' schemas say what openapi.yaml says, field by field: each argument and each field
// of a result is a property of the spec's TaskInput, TaskPatch, Task or a parameter of GET
// /api/tasks, with the same type, nullability, enum, format, bounds and pattern; the spec's own
// examples of request bodies are valid arguments. A change of the spec that the tools did not
// follow (or a tool schema written by hand) fails here.
func TestToolSchemasAgreeWithTheSpec(t *testing.T) {
	spec, err := apitest.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	server, err := mcp.New(spec, http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	schemas := spec.Components.Schemas
	tools := map[string]map[string]any{}
	outputs := map[string]map[string]any{}
	for _, tool := range server.Tools() {
		tools[tool.Name] = asMap(t, tool.InputSchema)
		outputs[tool.Name] = asMap(t, tool.OutputSchema)
	}
	taskID := spec.Paths.Find("/api/tasks/{id}").Parameters.GetByInAndName("path", "id").Schema
	listParams := map[string]*openapi3.SchemaRef{}
	for _, p := range spec.Paths.Find("/api/tasks").Get.Parameters {
		listParams[p.Value.Name] = p.Value.Schema
	}

	// want: the spec's schema of every argument, user_id aside (Phase III's, checked apart).
	want := map[string]map[string]*openapi3.SchemaRef{
		"add_task":      properties(schemas["TaskInput"]),
		"update_task":   with(properties(schemas["TaskPatch"]), "task_id", taskID),
		"complete_task": {"task_id": taskID},
		"delete_task":   {"task_id": taskID},
		"list_tasks":    {},
	}
	for _, name := range []string{"status", "q", "priority", "tag", "sort", "limit", "cursor"} {
		want["list_tasks"][name] = listParams[name]
	}
	for tool, fields := range want {
		props := tools[tool]["properties"].(map[string]any)
		if _, ok := props["user_id"]; !ok {
			t.Errorf("%s: no user_id argument (Phase III's agents pass one)", tool)
		}
		var names []string
		for name := range props {
			if name != "user_id" {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		if spec := sortedKeys(fields); !slices.Equal(names, spec) {
			t.Errorf("%s: arguments %v, the spec's %v", tool, names, spec)
		}
		for name, ref := range fields {
			agree(t, tool+"."+name, props[name], ref.Value)
		}
		if tools[tool]["additionalProperties"] != false {
			t.Errorf("%s: takes arguments it does not declare", tool)
		}
	}
	if req := tools["add_task"]["required"]; fmt.Sprint(req) != fmt.Sprint(schemas["TaskInput"].Value.Required) {
		t.Errorf("add_task requires %v, TaskInput %v", req, schemas["TaskInput"].Value.Required)
	}

	for _, tool := range []string{"add_task", "update_task", "complete_task", "delete_task"} {
		task := outputs[tool]["properties"].(map[string]any)["task"].(map[string]any)
		fields := task["properties"].(map[string]any)
		if names := sortedKeys(fields); !slices.Equal(names, sortedKeys(properties(schemas["Task"]))) {
			t.Errorf("%s's task: fields %v, Task's %v", tool, names, sortedKeys(properties(schemas["Task"])))
		}
		for name, ref := range properties(schemas["Task"]) {
			agree(t, tool+" result task."+name, fields[name], ref.Value)
		}
		if fmt.Sprint(task["required"]) != fmt.Sprint(schemas["Task"].Value.Required) {
			t.Errorf("%s's task requires %v, Task %v", tool, task["required"], schemas["Task"].Value.Required)
		}
	}
	items := outputs["list_tasks"]["properties"].(map[string]any)["tasks"].(map[string]any)["items"].(map[string]any)
	if names := sortedKeys(items["properties"].(map[string]any)); !slices.Equal(names, sortedKeys(properties(schemas["Task"]))) {
		t.Errorf("list_tasks' tasks: fields %v", names)
	}

	// The spec's examples of create and update bodies are valid arguments; what it forbids is not.
	add, update := resolve(t, tools["add_task"]), resolve(t, tools["update_task"])
	for name, ex := range spec.Components.RequestBodies["TaskInputBody"].Value.Content["application/json"].Examples {
		if err := add.Validate(ex.Value.Value); err != nil {
			t.Errorf("TaskInputBody's example %s is not a valid add_task: %v", name, err)
		}
	}
	for name, ex := range spec.Components.RequestBodies["TaskUpdateBody"].Value.Content["application/json"].Examples {
		args := map[string]any{"task_id": "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e"}
		for k, v := range ex.Value.Value.(map[string]any) {
			args[k] = v
		}
		if err := update.Validate(args); err != nil {
			t.Errorf("TaskUpdateBody's example %s is not a valid update_task: %v", name, err)
		}
	}
	for _, bad := range []map[string]any{{}, {"title": 5}, {"title": "x", "priority": "urgent"}, {"title": "x", "id": "y"}} {
		if add.Validate(bad) == nil {
			t.Errorf("add_task's schema takes %v", bad)
		}
	}
}

// agree checks one property of a tool's schema against the spec's schema of that field.
func agree(t *testing.T, where string, got any, spec *openapi3.Schema) {
	t.Helper()
	g, ok := got.(map[string]any)
	if !ok {
		t.Errorf("%s: missing", where)
		return
	}
	for _, part := range spec.AllOf { // a $ref beside a description, as the spec writes some
		spec = part.Value
	}
	wantType := []string{}
	if spec.Type != nil {
		wantType = append(wantType, *spec.Type...)
	}
	if spec.Nullable {
		wantType = append(wantType, "null")
	}
	if gotType := typesOf(g["type"]); !slices.Equal(gotType, wantType) {
		t.Errorf("%s: type %v, the spec's %v", where, gotType, wantType)
	}
	check := func(keyword string, want any, present bool) {
		t.Helper()
		if v, has := g[keyword]; has != present || (present && fmt.Sprint(v) != fmt.Sprint(want)) {
			t.Errorf("%s: %s %v (present %v), the spec's %v (present %v)", where, keyword, v, has, want, present)
		}
	}
	check("format", spec.Format, spec.Format != "")
	check("pattern", spec.Pattern, spec.Pattern != "")
	check("minLength", spec.MinLength, spec.MinLength > 0)
	check("maxLength", deref(spec.MaxLength), spec.MaxLength != nil)
	check("maxItems", deref(spec.MaxItems), spec.MaxItems != nil)
	check("minimum", deref(spec.Min), spec.Min != nil)
	check("maximum", deref(spec.Max), spec.Max != nil)
	enum := spec.Enum
	if len(enum) > 0 && spec.Nullable {
		enum = append(slices.Clone(enum), nil)
	}
	check("enum", enum, len(enum) > 0)
	if spec.Items != nil {
		agree(t, where+"[]", g["items"], spec.Items.Value)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func typesOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			out = append(out, s.(string))
		}
		return out
	}
	return []string{}
}

func properties(ref *openapi3.SchemaRef) map[string]*openapi3.SchemaRef {
	out := map[string]*openapi3.SchemaRef{}
	for k, v := range ref.Value.Properties {
		out[k] = v
	}
	return out
}

func with(m map[string]*openapi3.SchemaRef, name string, ref *openapi3.SchemaRef) map[string]*openapi3.SchemaRef {
	m[name] = ref
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
