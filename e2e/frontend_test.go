package e2e

import (
	"os"
	"os/exec"
	"testing"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

const frontendSecret = "frontend-e2e-secret-0123456789abcdef-0123"

// startAPI runs the taskapi binary on a fresh database with the shared secret, and returns
// it with a client that signs tokens for it.
func startAPI(t *testing.T) (*apitest.Process, *apitest.Client) {
	t.Helper()
	p := apitest.StartBinary(t, "DATABASE_URL="+testdb.URL(t), "BETTER_AUTH_SECRET="+frontendSecret, "RATE_LIMIT_RPS=0")
	return p, apitest.NewClient(t, p.BaseURL, []byte(frontendSecret))
}

// npm runs an npm script in dir with env added, failing the test with its output on error.
func npm(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("npm", append([]string{"--silent"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm %v in %s: %v\n%s", args, dir, err, out)
	}
	t.Logf("npm %v:\n%s", args, out)
}

// The generated TypeScript client against the live server: create with only a title, list
// with a filter and a cursor, get, merge patch, delete, and 404 and 422 read as typed
// problems (clients/typescript/test/client.test.ts).
func TestTypeScriptClient(t *testing.T) {
	dir := requireNode(t, "clients/typescript")
	api, c := startAPI(t)
	npm(t, dir, []string{"BASE_URL=" + api.BaseURL, "TOKEN=" + c.Token("ts-alice"), "TOKEN_OTHER=" + c.Token("ts-bob")}, "test")
}

// Swagger UI and ReDoc in Debian's Chromium: every operation listed, Authorize with a bearer
// token, "Try it out" on GET /api/tasks answering 200, ReDoc rendering, nothing loaded from
// elsewhere (e2e/docs/docs.test.mjs). Screenshots land in e2e/docs/out/.
func TestDocsInChromium(t *testing.T) {
	dir := requireNode(t, "e2e/docs")
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)")
	}
	api, c := startAPI(t)
	c.Do(apitest.Request{Method: "POST", Path: "/api/tasks", Token: c.Token("docs-alice"), Body: map[string]any{"title": "Buy milk"}})
	npm(t, dir, []string{"BASE_URL=" + api.BaseURL, "TOKEN=" + c.Token("docs-alice")}, "test")
}
