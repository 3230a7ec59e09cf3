package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	api "taskapi/gen/api"
)

// Checking a request against openapi.yaml, as the contract middleware does before every
// handler: a list with parameters, and a create with a body.
func BenchmarkValidateRequest(b *testing.B) {
	spec, err := api.GetSwagger()
	if err != nil {
		b.Fatal(err)
	}
	k := newContract(spec, 1<<20)
	e := echo.New()
	body := `{"title":"Buy milk","description":"Two litres","priority":"high","tags":["shopping","errands"],"due_date":"2026-12-01T17:00:00Z"}`
	for _, tc := range []struct{ name, method, route, target, body string }{
		{"list", "GET", "/api/tasks", "/api/tasks?status=pending&sort=-due_date&limit=20", ""},
		{"create", "POST", "/api/tasks", "/api/tasks", body},
	} {
		op := k.operation(tc.method, tc.route)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				c := e.NewContext(req, httptest.NewRecorder())
				c.SetPath(tc.route)
				if _, err := k.check(c, op, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
