package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

// signUp creates a Better Auth user (email and password) and returns the JWT that Better
// Auth's jwt plugin issues for them at /api/auth/token, as a frontend gets it with
// authClient.token().
func signUp(t *testing.T, baseURL, email string) string {
	t.Helper()
	body := fmt.Sprintf(`{"email":%q,"password":"correct-horse-battery","name":%q}`, email, email)
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/api/auth/sign-up/email", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", baseURL) // Better Auth checks the origin of cookie-carrying POSTs
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "better-auth.session_token" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusOK || session == nil {
		t.Fatalf("sign-up %s: %s, session cookie %v", email, resp.Status, session)
	}

	req, _ = http.NewRequest(http.MethodGet, baseURL+"/api/auth/token", nil)
	req.AddCookie(session)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var token struct{ Token string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &token) != nil || strings.Count(token.Token, ".") != 2 {
		t.Fatalf("GET /api/auth/token: %s %s", resp.Status, raw)
	}
	return token.Token
}

func readiness(t *testing.T, c *apitest.Client) string {
	t.Helper()
	r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"})
	var body struct{ Checks struct{ Auth string } }
	r.JSON(t, &body)
	if r.Status != http.StatusOK {
		t.Fatalf("readyz %d: %s", r.Status, r.Body)
	}
	return body.Checks.Auth
}

// Two users of a real Better Auth each see and change only their own tasks through taskapi,
// which knows Better Auth only by its URL; then Better Auth restarts with a new key and fresh
// tokens work without restarting taskapi.
func TestBetterAuthEndToEnd(t *testing.T) {
	requireNode(t, "e2e/betterauth")
	for _, alg := range []string{"EdDSA", "RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			auth := startBetterAuth(t, alg, "0")
			api := apitest.StartBinary(t, "DATABASE_URL="+testdb.URL(t), "BETTER_AUTH_URL="+auth.URL,
				"BETTER_AUTH_SECRET=", "JWKS_MIN_REFETCH_INTERVAL=0s", "RATE_LIMIT_RPS=0")
			c := apitest.NewClient(t, api.BaseURL, nil)
			if status := readiness(t, c); !strings.Contains(status, auth.URL+"/api/auth/jwks") || !strings.Contains(status, "("+alg+")") {
				t.Errorf("readyz does not name the JWKS and its %s key: %q", alg, status)
			}
			if !strings.Contains(api.Logs.String(), `"msg":"JWKS fetched"`) {
				t.Errorf("the start-up log does not show the key set:\n%s", api.Logs)
			}

			alice, bob := signUp(t, auth.URL, "alice@example.com"), signUp(t, auth.URL, "bob@example.com")
			aliceTask := createTask(t, c, alice, "alice's")
			bobTask := createTask(t, c, bob, "bob's")
			for token, want := range map[string]string{alice: "alice's", bob: "bob's"} {
				r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: token})
				var page struct{ Items []struct{ Title string } }
				r.JSON(t, &page)
				if len(page.Items) != 1 || page.Items[0].Title != want {
					t.Errorf("list: %s", r.Body)
				}
			}
			for _, req := range []apitest.Request{
				{Method: http.MethodGet, Path: "/api/tasks/" + bobTask},
				{Method: http.MethodPatch, Path: "/api/tasks/" + bobTask, Body: map[string]any{"title": "mine now"}},
				{Method: http.MethodPut, Path: "/api/tasks/" + bobTask, Body: map[string]any{"title": "mine now"}},
				{Method: http.MethodDelete, Path: "/api/tasks/" + bobTask},
			} {
				req.Token = alice
				if r := c.Do(req); r.Status != http.StatusNotFound {
					t.Errorf("alice %s bob's task: %d", req.Method, r.Status)
				}
			}
			if r := c.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + aliceTask, Token: alice,
				Body: map[string]any{"completed": true}}); r.Status != http.StatusOK {
				t.Errorf("alice updates her task: %d %s", r.Status, r.Body)
			}
			if r := c.Do(apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + bobTask, Token: bob}); r.Status != http.StatusNoContent {
				t.Errorf("bob deletes his task: %d", r.Status)
			}

			// Better Auth restarts with a fresh key store: a new kid, unknown to taskapi.
			oldStatus := readiness(t, c)
			port := auth.port()
			auth.stop()
			auth = startBetterAuth(t, alg, port)
			carol := signUp(t, auth.URL, "carol@example.com")
			createTask(t, c, carol, "after the key rotation")
			if newStatus := readiness(t, c); newStatus == oldStatus {
				t.Errorf("readyz still shows the old key: %q", newStatus)
			}
		})
	}
}

func createTask(t *testing.T, c *apitest.Client, token, title string) string {
	t.Helper()
	r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: map[string]any{"title": title}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create %q: %d %s", title, r.Status, r.Body)
	}
	var created struct{ ID string }
	r.JSON(t, &created)
	return created.ID
}

// The shared secret and Better Auth's keys at once: each kind of token is checked its own
// way, and both reach the same user's tasks.
func TestSharedSecretAndJWKSTogether(t *testing.T) {
	auth := startBetterAuth(t, "EdDSA", "0")
	const secret = "both-modes-secret-0123456789abcdef-0123"
	api := apitest.StartBinary(t, "DATABASE_URL="+testdb.URL(t), "BETTER_AUTH_URL="+auth.URL,
		"BETTER_AUTH_SECRET="+secret, "RATE_LIMIT_RPS=0")
	c := apitest.NewClient(t, api.BaseURL, []byte(secret))
	if status := readiness(t, c); !strings.Contains(status, "hs256: shared secret") || !strings.Contains(status, "(EdDSA)") {
		t.Errorf("readyz: %q", status)
	}
	jwt := signUp(t, auth.URL, "dana@example.com")
	id := createTask(t, c, jwt, "from Better Auth's JWT")

	// A frontend route signing {sub} with the shared secret for the same user.
	var claims struct{ Sub string }
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	json.Unmarshal(payload, &claims)
	r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + id, Token: c.Token(claims.Sub)})
	if r.Status != http.StatusOK {
		t.Errorf("the same user with an HS256 token: %d %s", r.Status, r.Body)
	}
}
