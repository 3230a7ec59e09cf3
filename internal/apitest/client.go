// Package apitest is the HTTP test harness: a client that signs real tokens and checks every
// response it sees against openapi.yaml, so a response the spec does not describe fails the
// test that received it.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"taskapi"
	"taskapi/internal/auth"
	"taskapi/internal/httpapi"
)

// Client talks to a running taskapi.
type Client struct {
	t       testing.TB
	BaseURL string
	Secret  []byte
	HTTP    *http.Client
	spec    *openapi3.T
	router  routers.Router
}

// NewClient returns a client for the server at baseURL whose tokens are signed with secret.
func NewClient(t testing.TB, baseURL string, secret []byte) *Client {
	t.Helper()
	spec, err := LoadSpec()
	if err != nil {
		t.Fatalf("apitest: loading openapi.yaml: %v", err)
	}
	// Route by path only: the spec's server is "/", and the test server has its own host.
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	return &Client{t: t, BaseURL: baseURL, Secret: secret, HTTP: &http.Client{Timeout: 30 * time.Second}, spec: spec, router: router}
}

// For returns a copy of c that reports to t, for use inside subtests.
func (c *Client) For(t testing.TB) *Client {
	cp := *c
	cp.t = t
	return &cp
}

// LoadSpec parses the committed openapi.yaml and checks that it is a valid document.
func LoadSpec() (*openapi3.T, error) {
	spec, err := openapi3.NewLoader().LoadFromData(taskapi.OpenAPIYAML)
	if err != nil {
		return nil, err
	}
	return spec, spec.Validate(context.Background())
}

// Token returns a valid token for user sub.
func (c *Client) Token(sub string) string {
	c.t.Helper()
	token, err := auth.Mint(c.Secret, auth.Claims{Subject: sub, IssuedAt: time.Now(), TTL: time.Hour})
	if err != nil {
		c.t.Fatalf("apitest: minting a token: %v", err)
	}
	return token
}

// Response is a response already read and checked against the spec.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// Problem is an RFC 9457 body as the tests read it.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// Problem decodes a problem body.
func (r *Response) Problem(t testing.TB) Problem {
	t.Helper()
	var p Problem
	r.JSON(t, &p)
	return p
}

// Request is one call: Token "" sends no Authorization header; Header adds or overrides.
type Request struct {
	Method      string
	Path        string // with the query string
	Token       string
	Body        any    // encoded as JSON unless it is a string or []byte, sent as is
	ContentType string // default application/json when there is a body
	Header      http.Header
}

// Do sends req and checks the response against the spec.
func (c *Client) Do(req Request) *Response {
	c.t.Helper()
	var body io.Reader
	contentType := req.ContentType
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		encoded, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("apitest: encoding the body: %v", err)
		}
		body = bytes.NewReader(encoded)
	}
	if body != nil && contentType == "" {
		contentType = "application/json"
	}
	httpReq, err := http.NewRequest(req.Method, c.BaseURL+req.Path, body)
	if err != nil {
		c.t.Fatalf("apitest: %v", err)
	}
	if contentType != "" {
		httpReq.Header.Set("Content-Type", contentType)
	}
	if req.Token != "" {
		httpReq.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		httpReq.Header[k] = v
	}
	return c.Send(httpReq)
}

// Send performs a prepared request and checks the response against the spec.
func (c *Client) Send(httpReq *http.Request) *Response {
	c.t.Helper()
	resp, err := c.HTTP.Do(httpReq)
	if err != nil {
		c.t.Fatalf("%s %s: %v", httpReq.Method, httpReq.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", httpReq.Method, httpReq.URL.Path, err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if err := c.check(httpReq, r); err != nil {
		c.t.Errorf("%s %s -> %d does not match openapi.yaml: %v\nbody: %.2000s", httpReq.Method, httpReq.URL.RequestURI(), r.Status, err, data)
	}
	return r
}

// Open performs a request whose answer is a stream (server-sent events) and returns it for the
// caller to read and close. Its status and headers are checked against the spec now; an error
// answer is read and checked whole, and its body is still there to read.
func (c *Client) Open(httpReq *http.Request) *http.Response {
	c.t.Helper()
	resp, err := streamClient.Do(httpReq)
	if err != nil {
		c.t.Fatalf("%s %s: %v", httpReq.Method, httpReq.URL.Path, err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode >= 300 {
		r.Body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(r.Body))
	}
	if err := c.check(httpReq, r); err != nil {
		c.t.Errorf("%s %s -> %d does not match openapi.yaml: %v\nbody: %.2000s", httpReq.Method, httpReq.URL.RequestURI(), r.Status, err, r.Body)
	}
	return resp
}

// streamClient has no timeout: a stream stays open as long as its reader wants.
var streamClient = &http.Client{}

// CheckSchema checks a JSON value against one of the spec's component schemas, for bodies
// that do not come whole in a response (each event of a stream).
func (c *Client) CheckSchema(name string, data []byte) error {
	ref := c.spec.Components.Schemas[name]
	if ref == nil {
		return fmt.Errorf("openapi.yaml has no schema %s", name)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.MultiErrors())
}

// check validates a response against the operation the request was for. A request that
// matches no operation must get a problem (404 or 405).
func (c *Client) check(req *http.Request, r *Response) error {
	if r.Header.Get("X-Request-ID") == "" {
		return fmt.Errorf("no X-Request-ID header")
	}
	if httpapi.OutsideSpec(req.Method, req.URL.Path) {
		// Not an operation on purpose (docs pages, CORS preflights): only its errors have a
		// shape to check.
		if r.Status >= 400 {
			return c.checkProblem(r)
		}
		return nil
	}
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no operation for this request, yet status %d", r.Status)
		}
		return c.checkProblem(r)
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			// Only JSON bodies have a schema worth checking; the docs' HTML and scripts are
			// checked for their media type.
			ExcludeResponseBody: !isJSON,
		},
	}
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return err
	}
	declared := route.Operation.Responses.Status(r.Status)
	if declared != nil && len(declared.Value.Content) == 0 && len(r.Body) > 0 {
		return fmt.Errorf("status %d is declared without a body, yet one was sent", r.Status)
	}
	if r.Status >= 400 {
		return c.checkProblem(r)
	}
	return nil
}

// checkProblem checks an error response against the Problem schema.
func (c *Client) checkProblem(r *Response) error {
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("error with Content-Type %q, not application/problem+json", ct)
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return err
	}
	schema := c.spec.Components.Schemas["Problem"].Value
	if err := schema.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		return err
	}
	var p Problem
	_ = json.Unmarshal(r.Body, &p)
	if p.Status != r.Status {
		return fmt.Errorf("problem status %d differs from the response's %d", p.Status, r.Status)
	}
	if p.RequestID != r.Header.Get("X-Request-ID") {
		return fmt.Errorf("problem request_id %q differs from X-Request-ID %q", p.RequestID, r.Header.Get("X-Request-ID"))
	}
	return nil
}
