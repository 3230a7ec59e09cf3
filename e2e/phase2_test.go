package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// A Phase II frontend's own task API module (e2e/phase2/tasks-api.mjs, written from the
// hackathon's published spec for a FastAPI backend) against the real binary: create with
// the form's extra fields, list with the spec's status and sort names and unknown
// parameters, a PUT of the title alone that keeps the task completed, the toggle through
// both routes, delete; and another user sees none of it. Plain Node 20 (fetch, node:test):
// no packages to install.
func TestPhaseIIFrontend(t *testing.T) {
	if os.Getenv("TASKAPI_E2E") == "" {
		t.Skip("Node end-to-end test: run `go tool task test` (or set TASKAPI_E2E=1)")
	}
	api, c := startAPI(t)
	const user = "phase2-frontend-user"
	cmd := exec.Command("node", "--test", "frontend.test.mjs")
	cmd.Dir = "phase2"
	cmd.Env = append(os.Environ(), "API_URL="+api.BaseURL, "USER_ID="+user, "TOKEN="+c.Token(user), "OTHER_TOKEN="+c.Token("someone-else"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test phase2/frontend.test.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
