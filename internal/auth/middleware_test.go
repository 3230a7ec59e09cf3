package auth

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// serve runs one request through Middleware and reports the user the handler saw, whether
// the handler ran, and the error the middleware returned.
func serve(t *testing.T, opts MiddlewareOptions, authorization string) (user string, ran bool, err error) {
	t.Helper()
	v, verr := NewVerifier(Options{Secret: testSecret})
	if verr != nil {
		t.Fatal(verr)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/tasks?access_token=x", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	c := echo.New().NewContext(req, httptest.NewRecorder())
	err = Middleware(v, opts)(func(c echo.Context) error {
		ran = true
		user, _ = UserID(c.Request().Context())
		return nil
	})(c)
	return user, ran, err
}

func TestMiddleware(t *testing.T) {
	token, err := Mint(testSecret, Claims{Subject: "alice", IssuedAt: time.Now(), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	required := func(echo.Context) bool { return true }
	var refused []string
	opts := MiddlewareOptions{Required: required, Refused: func(reason string) { refused = append(refused, reason) }}

	if user, ran, err := serve(t, opts, "Bearer "+token); err != nil || !ran || user != "alice" {
		t.Errorf("a valid token: user %q, ran %v, %v", user, ran, err)
	}
	if user, ran, err := serve(t, opts, "bearer "+token); err != nil || user != "alice" || !ran {
		t.Errorf("the scheme is case-insensitive: user %q, %v", user, err)
	}
	for _, header := range []string{"", "Basic " + token, token, "Bearer", "Bearer not.a.token"} {
		if _, ran, err := serve(t, opts, header); err == nil || ran {
			t.Errorf("Authorization %.20q: ran %v, %v", header, ran, err)
		}
	}
	if len(refused) != 5 || refused[0] != ReasonMissing || refused[4] != ReasonMalformed {
		t.Errorf("refusals reported: %q", refused)
	}
	_, _, err = serve(t, opts, "")
	if !errors.Is(err, ErrMissingToken) {
		t.Errorf("no token: %v, want ErrMissingToken for the bare challenge", err)
	}

	open := MiddlewareOptions{Required: func(echo.Context) bool { return false }}
	if user, ran, err := serve(t, open, "Bearer not.a.token"); err != nil || !ran || user != "" {
		t.Errorf("a route without security: user %q, ran %v, %v", user, ran, err)
	}
}

// Middleware is the one door for the token: no other code of the service reads Authorization
// (the MCP endpoint and the event stream included), so no route can authenticate another way.
// The bench's floor server (bench/benchtool), which measures the stack without authentication,
// is not the service.
func TestOnlyTheMiddlewareReadsAuthorization(t *testing.T) {
	root := filepath.Join("..", "..")
	var readers []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "gen", "node_modules", ".git", "testdata", "bench":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Base(filepath.Dir(path)) == "auth" {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			method, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (method.Sel.Name != "Get" && method.Sel.Name != "Values") {
				return true
			}
			if namesAuthorization(call.Args[0]) {
				readers = append(readers, path)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) > 0 {
		t.Errorf("Authorization is read outside internal/auth: %v", readers)
	}
}

func namesAuthorization(arg ast.Expr) bool {
	switch a := arg.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(a.Value)
		return err == nil && strings.EqualFold(s, "Authorization")
	case *ast.SelectorExpr:
		return a.Sel.Name == "HeaderAuthorization"
	}
	return false
}
