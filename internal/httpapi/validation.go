package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"taskapi/internal/problem"
)

// fromValidation turns kin-openapi's findings into one problem. A request that cannot be
// read as the schema's types (a bad parameter, a string where a number belongs, a body that
// is not an object) is a 400; a readable body that breaks a rule (too long, not in the enum,
// missing, unknown field) is a 422. Either way every finding is listed.
func fromValidation(err error) error {
	var malformed, invalid []problem.FieldError
	for _, e := range flatten(err) {
		reqErr, ok := errors.AsType[*openapi3filter.RequestError](e)
		if !ok {
			return e // not a validation finding: an internal error
		}
		switch {
		case reqErr.Parameter != nil:
			malformed = append(malformed, problem.FieldError{
				Field: reqErr.Parameter.Name, Message: parameterMessage(reqErr.Err),
			})
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
			return problem.New(problem.BadRequest, "request body is required")
		default:
			schemaErrs := schemaErrors(reqErr.Err)
			if len(schemaErrs) == 0 {
				return problem.Wrap(problem.BadRequest, "the request body cannot be read", reqErr)
			}
			for _, se := range schemaErrs {
				f := fieldError(se)
				if wrongType(se) {
					malformed = append(malformed, f)
				} else {
					invalid = append(invalid, f)
				}
			}
		}
	}
	switch {
	case len(malformed) > 0:
		return &problem.Error{Kind: problem.BadRequest, Detail: summary("the request is malformed", malformed), Fields: malformed}
	case len(invalid) > 0:
		return &problem.Error{Kind: problem.Invalid, Detail: summary("the request breaks the API's rules", invalid), Fields: invalid}
	}
	return err
}

// flatten lists the errors inside nested MultiErrors (only those: errors.As would also look
// through a RequestError's cause and lose which parameter or body it was about).
func flatten(err error) []error {
	if multi, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range multi {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func schemaErrors(err error) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	for _, e := range flatten(err) {
		if se, ok := errors.AsType[*openapi3.SchemaError](e); ok {
			out = append(out, se)
		}
	}
	return out
}

// wrongType reports whether the value is not even of the schema's JSON type: a number for a
// string, a string for a boolean, a body that is not an object. A null where a field cannot
// be null is a rule (a merge patch tried to clear it), unless it is the whole body.
func wrongType(se *openapi3.SchemaError) bool {
	if se.SchemaField == "type" {
		return true
	}
	if se.Value == nil {
		return len(se.JSONPointer()) == 0
	}
	if se.Schema == nil || se.Schema.Type == nil || len(*se.Schema.Type) == 0 {
		return false
	}
	return !se.Schema.Type.Permits(jsonType(se.Value))
}

func jsonType(v any) string {
	switch v := v.(type) {
	case string:
		return openapi3.TypeString
	case bool:
		return openapi3.TypeBoolean
	case []any:
		return openapi3.TypeArray
	case map[string]any:
		return openapi3.TypeObject
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return openapi3.TypeInteger
		}
		return openapi3.TypeNumber
	case float64:
		return openapi3.TypeNumber
	}
	return ""
}

// kin-openapi names an unknown property only in its message.
var unknownProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)

// fieldError names a schema error's location as a client would name the field: title,
// tags[1]. An unknown property is named by the property itself.
func fieldError(se *openapi3.SchemaError) problem.FieldError {
	path := se.JSONPointer()
	message := se.Reason
	if m := unknownProperty.FindStringSubmatch(se.Reason); m != nil {
		path = append(path, m[1])
		message = "is not a field that can be set"
	}
	return problem.FieldError{Field: fieldPath(path), Message: message}
}

func fieldPath(path []string) string {
	var b strings.Builder
	for _, part := range path {
		if _, err := strconv.Atoi(part); err == nil {
			b.WriteString("[" + part + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	if b.Len() == 0 {
		return "(body)"
	}
	return b.String()
}

func parameterMessage(err error) string {
	if se := schemaErrors(err); len(se) > 0 {
		return se[0].Reason
	}
	if errors.Is(err, openapi3filter.ErrInvalidRequired) {
		return "is required"
	}
	if errors.Is(err, openapi3filter.ErrInvalidEmptyValue) {
		return "must not be empty"
	}
	if pe, ok := errors.AsType[*openapi3filter.ParseError](err); ok && pe.Reason != "" {
		return pe.Reason
	}
	return "is not valid"
}

func summary(prefix string, fields []problem.FieldError) string {
	f := fields[0]
	if len(fields) == 1 {
		return fmt.Sprintf("%s: %s %s", prefix, f.Field, f.Message)
	}
	return fmt.Sprintf("%s: %s %s (and %d more)", prefix, f.Field, f.Message, len(fields)-1)
}
