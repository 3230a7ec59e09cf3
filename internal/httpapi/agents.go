package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"taskapi/internal/problem"
)

// The MCP endpoint (internal/mcp) and what an agent's client needs to find how to sign in to
// it: RFC 9728's protected resource metadata, named in every 401's challenge.
const (
	mcpPath      = "/mcp"
	metadataPath = "/.well-known/oauth-protected-resource"
)

// mcpRoute serves the MCP transport to authenticated callers. What the transport itself
// would refuse in plain text (a body that is not JSON or is too large, an Accept that does
// not take both of its answers' types) is refused here first, as a problem like every other
// refusal.
func mcpRoute(transport http.Handler, maxBody int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if mediaType, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mediaType != echo.MIMEApplicationJSON {
			return problem.New(problem.UnsupportedMediaType, "send MCP's JSON-RPC messages as application/json")
		}
		if !accepts(req.Header.Values(echo.HeaderAccept), echo.MIMEApplicationJSON) || !accepts(req.Header.Values(echo.HeaderAccept), "text/event-stream") {
			return problem.New(problem.BadRequest, "Accept must list application/json and text/event-stream (MCP's Streamable HTTP transport)")
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, maxBody))
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return problem.New(problem.TooLarge, "the request body is over the limit")
		}
		if err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		transport.ServeHTTP(c.Response(), req)
		return nil
	}
}

// accepts reports whether the Accept values take the media type (or */*).
func accepts(values []string, mediaType string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			t, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			if t == mediaType || t == "*/*" {
				return true
			}
		}
	}
	return false
}

// resourceMetadata serves RFC 9728's metadata of the API as a protected resource: where its
// tokens come from (Better Auth, when configured) and that they go in the Authorization header.
func resourceMetadata(publicURL string, authorizationServers []string) echo.HandlerFunc {
	return func(c echo.Context) error {
		base := baseURL(c, publicURL)
		m := map[string]any{
			"resource":                 base,
			"resource_name":            "taskapi",
			"bearer_methods_supported": []string{"header"},
			"resource_documentation":   base + "/docs",
		}
		if len(authorizationServers) > 0 {
			m["authorization_servers"] = authorizationServers
		}
		return c.JSON(http.StatusOK, m)
	}
}

// baseURL is where clients reach this server: PUBLIC_URL when set, else the request's host
// and scheme (X-Forwarded-Proto from a TLS-terminating proxy).
func baseURL(c echo.Context, publicURL string) string {
	if publicURL != "" {
		return publicURL
	}
	req := c.Request()
	scheme := "http"
	if req.TLS != nil || strings.EqualFold(req.Header.Get(echo.HeaderXForwardedProto), "https") {
		scheme = "https"
	}
	return scheme + "://" + req.Host
}
