package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"taskapi/internal/problem"
)

// contract is openapi.yaml's view of the requests the server takes: which operation a route
// is, whether it needs a token, and what its parameters and body must be. It finds the
// operation from the route Echo matched, so there is no second router.
type contract struct {
	operations map[string]map[string]*operation // by Echo's path template, then method
	// readOnly are the fields a client may echo back from a task but never set: its id,
	// owner and timestamps.
	readOnly map[string]bool
	maxBody  int64
	options  *openapi3filter.Options
}

type operation struct {
	route   *routers.Route
	secured bool
	query   map[string]bool // the declared query parameters
	body    *openapi3.RequestBody
	// fields are the body's declared properties by media type, for the bodies that allow
	// no others (the ones whose unknown fields are dropped unless the client is strict).
	fields map[string]map[string]bool
	// streams is true for an operation whose answer stays open (text/event-stream).
	streams bool
}

func newContract(spec *openapi3.T, maxBody int64) *contract {
	k := &contract{
		operations: map[string]map[string]*operation{},
		readOnly:   map[string]bool{"user_id": true},
		maxBody:    maxBody,
		options: &openapi3filter.Options{
			MultiError: true,
			// Authentication has happened by the time the validator runs.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// The generated handlers bind the value that was validated instead of decoding
			// the body a second time.
			KeepValidatedValue:  true,
			SkipSettingDefaults: true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(validUUID)),
				openapi3.WithStringFormatValidator("date-time", openapi3.NewCallbackValidator(validDateTime)),
			},
		},
	}
	for path, item := range spec.Paths.Map() {
		byMethod := map[string]*operation{}
		for method, op := range item.Operations() {
			security := spec.Security
			if op.Security != nil {
				security = *op.Security
			}
			o := &operation{
				route:   &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				secured: len(security) > 0,
				query:   map[string]bool{},
			}
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				if p.Value.In == openapi3.ParameterInQuery {
					o.query[p.Value.Name] = true
				}
			}
			if op.RequestBody != nil {
				o.body = op.RequestBody.Value
				o.fields = closedObjectFields(o.body)
			}
			if ok := op.Responses.Status(http.StatusOK); ok != nil && ok.Value.Content.Get("text/event-stream") != nil {
				o.streams = true
			}
			byMethod[method] = o
		}
		k.operations[echoPath(path)] = byMethod
	}
	if task := spec.Components.Schemas["Task"]; task != nil {
		for name := range task.Value.Properties {
			k.readOnly[name] = true
		}
	}
	for _, byMethod := range k.operations { // what some body can set is not read-only
		for _, op := range byMethod {
			for _, fields := range op.fields {
				for name := range fields {
					delete(k.readOnly, name)
				}
			}
		}
	}
	return k
}

// closedObjectFields lists the properties of each of body's object schemas that allow no
// other properties.
func closedObjectFields(body *openapi3.RequestBody) map[string]map[string]bool {
	byMediaType := map[string]map[string]bool{}
	for mediaType, content := range body.Content {
		schema := content.Schema.Value
		if schema.AdditionalProperties.Has == nil || *schema.AdditionalProperties.Has {
			continue
		}
		fields := map[string]bool{}
		for name := range schema.Properties {
			fields[name] = true
		}
		byMediaType[mediaType] = fields
	}
	return byMediaType
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// echoPath writes an OpenAPI path template the way Echo does: /api/tasks/{id} -> /api/tasks/:id.
func echoPath(p string) string { return pathParam.ReplaceAllString(p, ":$1") }

// operation is the spec's operation for the route Echo matched, nil when it has none.
func (k *contract) operation(method, echoPath string) *operation {
	return k.operations[echoPath][method]
}

func (k *contract) operationOf(c echo.Context) *operation {
	return k.operation(c.Request().Method, c.Path())
}

// streams reports whether the matched operation's answer stays open (an event stream), so no
// request deadline applies to it.
func (k *contract) streams(c echo.Context) bool {
	op := k.operationOf(c)
	return op != nil && op.streams
}

// secured reports whether the matched operation needs a token (the spec's security).
func (k *contract) secured(c echo.Context) bool {
	op := k.operationOf(c)
	return op != nil && op.secured
}

// wholeSegments answers 404 when a path parameter took more than one segment: Echo lets a
// route's last parameter swallow the rest of the path (/api/tasks/{id}/extra), and the spec's
// parameters are single segments.
func (k *contract) wholeSegments(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, v := range c.ParamValues() {
			if strings.Contains(v, "/") && k.operationOf(c) != nil {
				return echo.ErrNotFound
			}
		}
		return next(c)
	}
}

// validate checks the matched operation's parameters and body against the spec before a
// handler sees them; requests of routes outside the spec go on unchecked (Echo answers an
// unknown one with 404 or 405 through the error handler).
func (k *contract) validate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		op := k.operationOf(c)
		if op == nil {
			return next(c)
		}
		req, err := k.check(c, op, c.Request())
		if err != nil {
			return err
		}
		c.SetRequest(req)
		return next(c)
	}
}

func (k *contract) check(c echo.Context, op *operation, req *http.Request) (*http.Request, error) {
	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return nil, problem.New(problem.BadRequest, "the query string is malformed")
	}
	strict := prefersStrict(req.Header)
	if strict {
		c.Response().Header().Set("Preference-Applied", "handling=strict")
	}
	var ignored ignoredInputs
	for name, values := range query {
		switch {
		case !op.query[name] && strict:
			return nil, badParam(name, "is not a parameter of this operation")
		case !op.query[name]:
			ignored.add("unknown query parameter", name)
			delete(query, name) // never validated, never bound
		case len(values) > 1:
			return nil, badParam(name, "must be given at most once")
		case !cleanText(values[0]):
			return nil, badParam(name, "must be UTF-8 text without NUL characters")
		}
	}
	pathParams := make(map[string]string, len(c.ParamNames()))
	for i, name := range c.ParamNames() {
		value := c.ParamValues()[i]
		if !cleanText(value) {
			return nil, badParam(name, "must be UTF-8 text without NUL characters")
		}
		pathParams[name] = value
	}

	if op.body != nil {
		if req, err = k.readBody(c, op, req, strict, &ignored); err != nil {
			return nil, err
		}
	}
	ignored.write(c.Response().Header()) // on any answer, a 422 for another field included

	err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request:     req,
		PathParams:  pathParams,
		QueryParams: query,
		Route:       op.route,
		Options:     k.options,
	})
	if err != nil {
		return nil, fromValidation(err)
	}
	return req, nil
}

// readBody reads a JSON body within the size limit and checks what a schema cannot: that it
// is there, in a media type the operation takes, and well-formed UTF-8 JSON. Unless the
// client is strict, the fields the operation does not have are dropped (and named in ig).
func (k *contract) readBody(c echo.Context, op *operation, req *http.Request, strict bool, ig *ignoredInputs) (*http.Request, error) {
	spec := op.body
	tooLarge := problem.New(problem.TooLarge, fmt.Sprintf("request body is larger than %d bytes", k.maxBody))
	if req.ContentLength > k.maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, req.Body, k.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge
		}
		return nil, problem.Wrap(problem.BadRequest, "the request body could not be read", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, problem.New(problem.BadRequest, "request body is required")
	}

	accepted := make([]string, 0, len(spec.Content))
	for mediaType := range spec.Content {
		accepted = append(accepted, mediaType)
	}
	slices.Sort(accepted)
	mediaType, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || spec.Content[mediaType] == nil {
		return nil, problem.New(problem.UnsupportedMediaType,
			"Content-Type must be "+strings.Join(accepted, " or "))
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return nil, problem.New(problem.UnsupportedMediaType,
			"the body must be UTF-8: send "+strings.Join(accepted, " or ")+" with no charset or charset=utf-8")
	}
	if !utf8.Valid(body) {
		return nil, problem.New(problem.BadRequest, "the request body is not valid UTF-8")
	}
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	if fields := op.fields[mediaType]; fields != nil && !strict {
		body = dropUnknownFields(body, fields, k.readOnly, ig)
	}

	req = req.Clone(req.Context())
	// The generated handler picks the body by media type; give it the bare, lower-case one.
	req.Header.Set(echo.HeaderContentType, mediaType)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return req, nil
}

// checkJSON rejects anything but exactly one JSON value, saying where it went wrong.
func checkJSON(body []byte) error {
	if json.Valid(body) {
		return nil
	}
	detail := "the request body is not valid JSON"
	var v any
	if syntax, ok := errors.AsType[*json.SyntaxError](json.Unmarshal(body, &v)); ok {
		detail += fmt.Sprintf(" (at byte %d)", syntax.Offset)
	}
	return problem.New(problem.BadRequest, detail)
}

func cleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// validUUID accepts only the canonical 8-4-4-4-12 hex form (uuid.Parse would also take
// braces, urn:uuid: and no hyphens). By hand rather than with a regexp: every request with a
// task id runs it.
func validUUID(s string) error {
	ok := len(s) == 36
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			ok = c == '-'
		} else {
			ok = '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
		}
	}
	if !ok {
		return errors.New("must be a UUID such as 0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e")
	}
	return nil
}

// validDateTime accepts RFC 3339 timestamps with an offset, in years PostgreSQL can store.
func validDateTime(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return errors.New("must be an RFC 3339 date-time such as 2026-12-01T17:00:00Z")
	}
	return nil
}

func badParam(name, message string) error {
	return &problem.Error{
		Kind:   problem.BadRequest,
		Detail: fmt.Sprintf("parameter %q: %s", name, message),
		Fields: []problem.FieldError{{Field: name, Message: message}},
	}
}
