package mcp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// jsonSchema is an OpenAPI 3.0 schema of openapi.yaml as the JSON Schema (2020-12) an MCP tool
// declares: references inlined, `nullable` as a "null" type (and a null in an enum), `example`
// as `examples`, OpenAPI's own keywords and extensions left out. The tools' schemas are made of
// these at start, from the spec the server validates with, so they cannot say anything else.
func jsonSchema(ref *openapi3.SchemaRef) map[string]any {
	s := ref.Value
	out := map[string]any{}
	types := []string{}
	if s.Type != nil {
		types = slices.Clone(*s.Type)
	}
	nullable := s.Nullable
	if len(types) == 1 && !nullable {
		out["type"] = types[0]
	} else if len(types) > 0 {
		if nullable {
			types = append(types, "null")
		}
		out["type"] = types
	}
	set := func(key string, v any, present bool) {
		if present {
			out[key] = v
		}
	}
	set("description", strings.TrimSpace(s.Description), s.Description != "")
	set("format", s.Format, s.Format != "")
	set("pattern", s.Pattern, s.Pattern != "")
	set("default", s.Default, s.Default != nil)
	set("readOnly", true, s.ReadOnly)
	set("uniqueItems", true, s.UniqueItems)
	set("minLength", s.MinLength, s.MinLength > 0)
	set("minItems", s.MinItems, s.MinItems > 0)
	setPtr(out, "maxLength", s.MaxLength)
	setPtr(out, "maxItems", s.MaxItems)
	if s.ExclusiveMin.IsTrue() {
		setPtr(out, "exclusiveMinimum", s.Min)
	} else {
		setPtr(out, "minimum", s.Min)
	}
	if s.ExclusiveMax.IsTrue() {
		setPtr(out, "exclusiveMaximum", s.Max)
	} else {
		setPtr(out, "maximum", s.Max)
	}
	if s.Example != nil {
		out["examples"] = []any{s.Example}
	}
	if len(s.Enum) > 0 {
		enum := slices.Clone(s.Enum)
		if nullable && !slices.Contains(enum, nil) {
			enum = append(enum, nil)
		}
		out["enum"] = enum
	}
	if s.Items != nil {
		out["items"] = jsonSchema(s.Items)
	}
	if len(s.Properties) > 0 {
		props := map[string]any{}
		for name, p := range s.Properties {
			props[name] = jsonSchema(p)
		}
		out["properties"] = props
	}
	if len(s.Required) > 0 {
		out["required"] = slices.Clone(s.Required)
	}
	if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
		out["additionalProperties"] = false
	} else if s.AdditionalProperties.Schema != nil {
		out["additionalProperties"] = jsonSchema(s.AdditionalProperties.Schema)
	}
	for key, list := range map[string]openapi3.SchemaRefs{"allOf": s.AllOf, "anyOf": s.AnyOf, "oneOf": s.OneOf} {
		if len(list) > 0 {
			var schemas []any
			for _, r := range list {
				schemas = append(schemas, jsonSchema(r))
			}
			out[key] = schemas
		}
	}
	if s.Not != nil {
		out["not"] = jsonSchema(s.Not)
	}
	return out
}

func setPtr[T any](out map[string]any, key string, p *T) {
	if p != nil {
		out[key] = *p
	}
}

// specSchemas are the parts of openapi.yaml the tools are made of.
type specSchemas struct {
	task, taskInput, taskPatch *openapi3.SchemaRef
	taskID                     *openapi3.Parameter
	list                       map[string]*openapi3.Parameter // listTasks' query parameters
}

func schemasOf(spec *openapi3.T) (specSchemas, error) {
	var s specSchemas
	schemas := spec.Components.Schemas
	s.task, s.taskInput, s.taskPatch = schemas["Task"], schemas["TaskInput"], schemas["TaskPatch"]
	if s.task == nil || s.taskInput == nil || s.taskPatch == nil {
		return s, fmt.Errorf("mcp: openapi.yaml lacks Task, TaskInput or TaskPatch")
	}
	list := spec.Paths.Find("/api/tasks")
	item := spec.Paths.Find("/api/tasks/{id}")
	if list == nil || list.Get == nil || item == nil {
		return s, fmt.Errorf("mcp: openapi.yaml lacks GET /api/tasks or /api/tasks/{id}")
	}
	s.list = map[string]*openapi3.Parameter{}
	for _, p := range list.Get.Parameters {
		if p.Value.In == openapi3.ParameterInQuery {
			s.list[p.Value.Name] = p.Value
		}
	}
	for _, p := range append(item.Parameters, item.Get.Parameters...) {
		if p.Value.In == openapi3.ParameterInPath && p.Value.Name == "id" {
			s.taskID = p.Value
		}
	}
	if s.taskID == nil {
		return s, fmt.Errorf("mcp: openapi.yaml lacks the path parameter id of /api/tasks/{id}")
	}
	return s, nil
}

// parameterSchema is a parameter's schema with the parameter's description.
func parameterSchema(p *openapi3.Parameter) map[string]any {
	s := jsonSchema(p.Schema)
	if p.Description != "" {
		s["description"] = strings.TrimSpace(p.Description)
	}
	return s
}

// objectSchema is a tool's object schema: these properties, these required, no others.
func objectSchema(props map[string]any, required ...string) map[string]any {
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}
