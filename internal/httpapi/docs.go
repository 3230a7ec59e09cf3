package httpapi

import (
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	swaggerui "github.com/swaggo/files/v2"

	"taskapi/internal/problem"
)

// The UIs' assets are in the binary, so the docs work with no internet access: Swagger UI
// from github.com/swaggo/files/v2 (pinned in go.mod), ReDoc's standalone bundle vendored
// under assets/redoc (see the Taskfile's assets:redoc task), and our own pages.
//
//go:embed assets
var assets embed.FS

// docsPolicy lets the docs pages load from this server only. ReDoc needs inline styles and a
// blob: web worker; nothing may come from another origin.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type docs struct {
	yaml, json []byte
	ours       fs.FS
}

func newDocs(spec *openapi3.T, yaml []byte) (*docs, error) {
	asJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	ours, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	return &docs{yaml: yaml, json: asJSON, ours: ours}, nil
}

func (d *docs) register(e *echo.Echo) {
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", d.yaml)
	})
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.json)
	})
	e.GET("/docs", d.file(d.ours, "swagger.html"))
	e.GET("/docs/:asset", func(c echo.Context) error {
		if c.Param("asset") == "swagger-initializer.js" {
			return d.file(d.ours, "swagger-initializer.js")(c)
		}
		return d.file(swaggerui.FS, c.Param("asset"))(c)
	})
	e.GET("/redoc", d.file(d.ours, "redoc.html"))
	e.GET("/redoc/:asset", func(c echo.Context) error {
		return d.file(d.ours, path.Join("redoc", c.Param("asset")))(c)
	})
}

func (d *docs) file(fsys fs.FS, name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		content, err := fs.ReadFile(fsys, name)
		if err != nil || !fs.ValidPath(name) {
			return problem.New(problem.NotFound, "there is nothing at "+c.Request().URL.Path)
		}
		contentType := mime.TypeByExtension(path.Ext(name))
		if contentType == "" {
			contentType = echo.MIMEOctetStream
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=3600")
		if path.Ext(name) == ".html" {
			c.Response().Header().Set(echo.HeaderContentSecurityPolicy, docsPolicy)
		}
		return c.Blob(http.StatusOK, contentType, content)
	}
}
