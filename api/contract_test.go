// Package api_test holds the gates on the contract: openapi.yaml is a valid, fully documented
// document that the binary embeds, it does not break the released contract, and sqlc vet keeps
// every query scoped to its user.
package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	api "taskapi/gen/api"
	"taskapi/internal/apitest"
)

// The spec the binary embeds (generated into gen/api) is the committed openapi.yaml.
func TestEmbeddedSpecIsTheCommittedOne(t *testing.T) {
	fromYAML, err := apitest.LoadSpec()
	if err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	embedded, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromYAML)
	b, _ := json.Marshal(embedded)
	if !bytes.Equal(a, b) {
		t.Error("gen/api's embedded spec differs from openapi.yaml: run `go tool task generate`")
	}
}

// Every operation is documented enough for a generated client and Swagger UI, and every
// error it can answer is a typed problem.
func TestEveryOperationIsDocumented(t *testing.T) {
	spec, err := apitest.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" || len(op.Tags) == 0 {
				t.Errorf("%s lacks an operationId, summary, description or tag", name)
			}
			secured := op.Security == nil || len(*op.Security) > 0
			// Every operation ignores unknown input unless asked to be strict, and may say so
			// on any answer.
			if slices.IndexFunc(slices.Concat(item.Parameters, op.Parameters), func(p *openapi3.ParameterRef) bool {
				return p.Value.In == openapi3.ParameterInHeader && p.Value.Name == "Prefer"
			}) < 0 {
				t.Errorf("%s does not declare the Prefer header", name)
			}
			for code, resp := range op.Responses.Map() {
				for _, header := range []string{"Warning", "Preference-Applied"} {
					if resp.Value.Headers[header] == nil {
						t.Errorf("%s %s does not declare the %s header", name, code, header)
					}
				}
			}
			for code, resp := range op.Responses.Map() {
				if code < "400" {
					continue
				}
				media := resp.Value.Content.Get("application/problem+json")
				if media == nil {
					t.Errorf("%s %s is not application/problem+json", name, code)
					continue
				}
				ref := media.Schema.Ref
				if ref != "#/components/schemas/Problem" && ref != "#/components/schemas/NotReadyProblem" {
					t.Errorf("%s %s does not use the shared Problem schema (%q)", name, code, ref)
				}
			}
			if secured && op.Responses.Status(401) == nil {
				t.Errorf("%s needs a token but declares no 401", name)
			}
			if slices.Contains(op.Tags, "tasks") {
				for _, code := range []int{400, 401, 500, 503} {
					if op.Responses.Status(code) == nil {
						t.Errorf("%s does not declare %d", name, code)
					}
				}
			}
		}
	}
}

// The sqlc vet rule in sqlc.yaml fails a query on tasks that does not filter on user_id.
func TestSqlcVetRuleCatchesUnscopedQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sqlc")
	}
	dir := t.TempDir()
	config, err := os.ReadFile("../sqlc.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sqlc.yaml"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	copyDir(t, "../db/migrations", filepath.Join(dir, "db/migrations"))
	vet := func(queries string) (string, error) {
		if err := os.MkdirAll(filepath.Join(dir, "db/queries"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "db/queries/q.sql"), []byte(queries), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("go", "tool", "sqlc", "vet", "-f", filepath.Join(dir, "sqlc.yaml"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, ok := range []string{
		"-- name: Ok :one\nSELECT * FROM tasks WHERE user_id = @user_id AND id = @id;\n",
		"-- name: OkEvents :many\nSELECT * FROM task_events WHERE user_id = ANY (@users::text[]);\n",
		"-- name: SweepOk :exec\nDELETE FROM task_events WHERE at < @before;\n", // a background job's, by its name
	} {
		if out, err := vet(ok); err != nil {
			t.Fatalf("vet refuses an allowed query: %v\n%s\n%s", err, ok, out)
		}
	}
	for _, bad := range []string{
		"-- name: Leak :one\nSELECT * FROM tasks WHERE id = @id;\n",
		"-- name: LeakAll :many\nSELECT * FROM tasks;\n",
		"-- name: Wipe :exec\nDELETE FROM tasks WHERE id = @id;\n",
		"-- name: Hijack :exec\nUPDATE tasks SET title = @title WHERE id = @id;\n",
		"-- name: Spy :many\nSELECT * FROM task_events WHERE id > @after;\n",
		"-- name: ListSweep :many\nSELECT * FROM task_events;\n", // Sweep must start the name
	} {
		out, err := vet(bad)
		if err == nil || !strings.Contains(out, "tasks-filter-by-user") {
			t.Errorf("vet passes an unscoped query:\n%s\n%s", bad, out)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// The breaking-change gate: openapi.yaml may not break clients of the last released contract
// (api/released/openapi.yaml) unless info.version's major number went up.
func TestNoBreakingChangeWithoutAMajorVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("runs oasdiff")
	}
	released, current := majorVersion(t, "released/openapi.yaml"), majorVersion(t, "../openapi.yaml")
	out, err := breakingChanges("released/openapi.yaml", "../openapi.yaml")
	if err != nil && current <= released {
		t.Errorf("openapi.yaml breaks clients of the released contract (v%d); make it compatible or bump "+
			"info.version to %d.0.0 and say why in api/CHANGELOG.md:\n%s", released, released+1, out)
	}
}

// The gate does fail: a copy of the spec with a request property made required is refused.
func TestBreakingChangeGateCatchesABreak(t *testing.T) {
	if testing.Short() {
		t.Skip("runs oasdiff")
	}
	spec, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(spec), "      required: [title]\n", "      required: [title, priority]\n", 1)
	if broken == string(spec) {
		t.Fatal("the mutation did not apply")
	}
	path := filepath.Join(t.TempDir(), "openapi.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := breakingChanges("../openapi.yaml", path)
	if err == nil || !strings.Contains(out, "request-property-became-required") {
		t.Errorf("oasdiff let a breaking change through:\n%s", out)
	}
}

func breakingChanges(base, revision string) (string, error) {
	out, err := exec.Command("go", "tool", "oasdiff", "breaking", base, revision, "--fail-on", "ERR", "--err-ignore", "allowed-breaks.txt").CombinedOutput()
	return string(out), err
}

func majorVersion(t *testing.T, path string) int {
	t.Helper()
	spec, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	major, _, _ := strings.Cut(spec.Info.Version, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		t.Fatalf("%s: info.version %q is not semantic", path, spec.Info.Version)
	}
	return n
}
