package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

// A Phase III agent (e2e/mcp/agent.test.mjs: the official TypeScript MCP SDK's client) manages
// a Better Auth user's tasks through taskapi's /mcp with that user's JWKS-signed token, while
// another user's agent sees and touches none of them; without a token it is refused with the
// challenge that names the protected resource metadata, which names Better Auth.
func TestMCPAgentWithBetterAuth(t *testing.T) {
	dir := requireNode(t, "e2e/mcp")
	auth := startBetterAuth(t, "EdDSA", "0")
	api := apitest.StartBinary(t, "DATABASE_URL="+testdb.URL(t), "BETTER_AUTH_URL="+auth.URL,
		"BETTER_AUTH_SECRET=", "RATE_LIMIT_RPS=0")
	token, other := signUp(t, auth.URL, "agent-owner@example.com"), signUp(t, auth.URL, "someone@example.com")
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Sub string }
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Sub == "" {
		t.Fatalf("the token's sub: %v %s", err, payload)
	}
	cmd := exec.Command("node", "--test", "agent.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MCP_URL="+api.BaseURL+"/mcp", "TOKEN="+token, "USER_ID="+claims.Sub, "OTHER_TOKEN="+other)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test e2e/mcp/agent.test.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
