// Runs the typed client against a live taskapi:
//   BASE_URL=http://127.0.0.1:8080 TOKEN=... [TOKEN_OTHER=...] npm test
// Every response is read through the generated types: there is no type cast in this file.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createTaskClient, type Problem, type Result, type Task, type TaskClient } from "../src/index.js";

const BASE_URL = process.env["BASE_URL"] ?? "";
const TOKEN = process.env["TOKEN"] ?? "";
const TOKEN_OTHER = process.env["TOKEN_OTHER"] ?? "";

if (BASE_URL === "" || TOKEN === "") {
  throw new Error(
    "BASE_URL and TOKEN must be set to run these tests against a live taskapi, e.g.\n" +
      "  BASE_URL=http://127.0.0.1:8080 TOKEN=$(go run ./cmd/taskapi token --sub alice) npm test\n" +
      "(TOKEN_OTHER, a token for a second user, is optional.)",
  );
}

/** Content-Type of every request the client sent, by method. */
const sentContentTypes: { method: string; contentType: string | null }[] = [];

const client = createTaskClient({
  baseUrl: BASE_URL,
  token: TOKEN,
  fetch: (request) => {
    sentContentTypes.push({ method: request.method, contentType: request.headers.get("Content-Type") });
    return fetch(request);
  },
});

// A tag unique to this run keeps the list assertions independent of other data.
const runTag = `tsc-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const created = new Set<string>();

function expectOk<T>(result: Result<T>): T {
  if (!result.ok) {
    const { status, type, detail } = result.problem;
    assert.fail(`expected success, got ${status} ${type}: ${detail}`);
  }
  return result.data;
}

function expectProblem<T>(result: Result<T>, status: number, type: string): Problem {
  if (result.ok) assert.fail(`expected a ${status} problem, got ${result.response.status}`);
  const { problem, response } = result;
  assert.equal(response.status, status);
  assert.match(response.headers.get("Content-Type") ?? "", /^application\/problem\+json/);
  assert.equal(problem.status, status);
  assert.equal(problem.type, type);
  assert.equal(typeof problem.title, "string");
  assert.ok(problem.detail.length > 0, "detail is not empty");
  assert.equal(problem.request_id, response.headers.get("X-Request-ID"));
  return problem;
}

async function create(c: TaskClient, title: string, tags: string[] = [runTag]): Promise<Task> {
  const task = expectOk(await c.createTask({ title, tags }));
  created.add(task.id);
  return task;
}

after(async () => {
  for (const id of created) await client.deleteTask(id);
});

describe("taskapi typed client", () => {
  let task: Task;

  test("createTask with only a title fills in the defaults", async () => {
    const result = await client.createTask({ title: `  only a title ${runTag}  ` });
    const t = expectOk(result);
    created.add(t.id);
    task = t;
    assert.equal(result.response.status, 201);
    assert.equal(result.response.headers.get("Location"), `/api/tasks/${t.id}`);
    assert.equal(t.title, `only a title ${runTag}`, "surrounding white space is trimmed");
    assert.equal(t.description, null);
    assert.equal(t.completed, false);
    assert.equal(t.completed_at, null);
    assert.equal(t.priority, "medium");
    assert.equal(t.due_date, null);
    assert.deepEqual(t.tags, []);
    assert.match(t.id, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(t.created_at)));
  });

  test("getTask returns the same task", async () => {
    assert.deepEqual(expectOk(await client.getTask(task.id)), task);
  });

  describe("listTasks with a filter and a small limit", () => {
    const ids: string[] = [];
    before(async () => {
      for (const n of [1, 2, 3]) ids.push((await create(client, `page ${n}`)).id);
    });

    test("follows next_cursor to the second page", async () => {
      const first = expectOk(await client.listTasks({ tag: runTag, limit: 2 }));
      assert.equal(first.items.length, 2);
      assert.notEqual(first.next_cursor, null);
      // Newest first by default.
      assert.deepEqual(
        first.items.map((t) => t.id),
        [ids[2], ids[1]],
      );
      const cursor = first.next_cursor ?? assert.fail("no next_cursor on the first page");

      const second = expectOk(await client.listTasks({ tag: runTag, limit: 2, cursor }));
      assert.deepEqual(
        second.items.map((t) => t.id),
        [ids[0]],
      );
      assert.equal(second.next_cursor, null, "the second page is the last");
    });

    test("combines filters (tag + status + sort)", async () => {
      const target = ids[1] ?? assert.fail("no task");
      expectOk(await client.updateTask(target, { completed: true }));
      const done = expectOk(await client.listTasks({ tag: runTag, status: "completed", sort: "title" }));
      assert.deepEqual(
        done.items.map((t) => t.id),
        [target],
      );
      const pending = expectOk(await client.listTasks({ tag: runTag, status: "pending", sort: "-title" }));
      assert.deepEqual(
        pending.items.map((t) => t.title),
        ["page 3", "page 1"],
      );
    });
  });

  test("updateTask sends a merge patch: set, keep, clear", async () => {
    const patched = expectOk(
      await client.updateTask(task.id, {
        completed: true,
        description: "two litres",
        priority: "high",
        due_date: "2030-01-02T03:04:05Z",
      }),
    );
    assert.equal(patched.completed, true);
    assert.notEqual(patched.completed_at, null, "completing sets completed_at");
    assert.equal(patched.description, "two litres");
    assert.equal(patched.priority, "high");
    assert.equal(patched.title, task.title, "absent fields are kept");
    assert.equal(Date.parse(patched.due_date ?? ""), Date.parse("2030-01-02T03:04:05Z"));

    const cleared = expectOk(await client.updateTask(task.id, { description: null, due_date: null, completed: false }));
    assert.equal(cleared.description, null);
    assert.equal(cleared.due_date, null);
    assert.equal(cleared.completed_at, null, "reopening clears completed_at");
    assert.equal(cleared.priority, "high", "absent fields are kept");

    const patches = sentContentTypes.filter((r) => r.method === "PATCH");
    assert.ok(patches.length >= 2);
    for (const p of patches) assert.equal(p.contentType, "application/merge-patch+json");
  });

  test("replaceTask sets the fields given and keeps the others", async () => {
    const before = expectOk(await client.getTask(task.id));
    const replaced = expectOk(await client.replaceTask(task.id, { title: "replaced", tags: ["a", "b"] }));
    assert.equal(replaced.title, "replaced");
    assert.deepEqual(replaced.tags, ["a", "b"]);
    assert.equal(replaced.priority, before.priority, "a field left out keeps its value");
    assert.equal(replaced.completed, before.completed);
    assert.equal(replaced.id, task.id);
  });

  test("deleteTask, then getTask is a typed 404 problem", async () => {
    const deleted = await client.deleteTask(task.id);
    assert.equal(expectOk(deleted), undefined);
    assert.equal(deleted.response.status, 204);
    created.delete(task.id);

    const problem = expectProblem(await client.getTask(task.id), 404, "urn:taskapi:problem:not-found");
    assert.equal(problem.instance, `/api/tasks/${task.id}`);
    expectProblem(await client.deleteTask(task.id), 404, "urn:taskapi:problem:not-found");
  });

  test("a 201-character title is a typed 422 problem naming the field", async () => {
    const problem = expectProblem(
      await client.createTask({ title: "x".repeat(201) }),
      422,
      "urn:taskapi:problem:validation-failed",
    );
    const fields = (problem.errors ?? []).map((e) => e.field);
    assert.deepEqual(fields, ["title"]);
    assert.ok((problem.errors ?? []).every((e) => e.message.length > 0));
  });

  test("an unknown field is ignored and named in a Warning; strict, it is a typed 422 problem", async () => {
    // Excess-property checks only apply to object literals, so a wider object still
    // type-checks; the server is what ignores or rejects it.
    const sneaky = { title: "owned by someone else", user_id: "mallory", tags: [runTag] };
    const lenient = await client.createTask(sneaky);
    const task = expectOk(lenient);
    created.add(task.id);
    assert.equal(lenient.response.headers.get("Warning"), '299 taskapi "ignored read-only field: user_id"');
    const problem = expectProblem(await client.createTask(sneaky, { strict: true }), 422, "urn:taskapi:problem:validation-failed");
    assert.deepEqual(
      (problem.errors ?? []).map((e) => e.field),
      ["user_id"],
    );
  });

  test("completing a recurring task makes its next occurrence, typed, and links to it", async () => {
    const weekly = expectOk(
      await client.createTask({
        title: "standup", tags: [runTag], due_date: "2027-03-08T14:00:00Z",
        recurrence: "FREQ=WEEKLY;BYDAY=MO", timezone: "America/New_York",
      }),
    );
    created.add(weekly.id);
    assert.equal(weekly.series_id, weekly.id);
    const done = await client.updateTask(weekly.id, { completed: true });
    const link = done.response.headers.get("Link") ?? "";
    const nextId = /^<\/api\/tasks\/([0-9a-f-]+)>; rel="next-occurrence"$/.exec(link)?.[1];
    assert.ok(nextId, `Link ${link}`);
    created.add(nextId);
    const next = expectOk(await client.getTask(nextId));
    assert.equal(next.series_id, weekly.id);
    assert.equal(next.due_date, "2027-03-15T13:00:00Z", "09:00 New York time after the change to summer time");
    assert.equal(next.completed, false);
  });

  test("a query parameter out of range is a typed 400 problem naming the parameter", async () => {
    const problem = expectProblem(await client.listTasks({ limit: 101 }), 400, "urn:taskapi:problem:bad-request");
    assert.deepEqual(
      (problem.errors ?? []).map((e) => e.field),
      ["limit"],
    );
  });

  test("a bad token is a typed 401 problem", async () => {
    const anonymous = createTaskClient({ baseUrl: BASE_URL, token: () => Promise.resolve("not-a-jwt") });
    const result = await anonymous.listTasks();
    expectProblem(result, 401, "urn:taskapi:problem:unauthorized");
    assert.match(result.response.headers.get("WWW-Authenticate") ?? "", /^Bearer /);
  });

  test("another user's task is not found", { skip: TOKEN_OTHER === "" && "TOKEN_OTHER is not set" }, async () => {
    const mine = await create(client, "private");
    const other = createTaskClient({ baseUrl: BASE_URL, token: TOKEN_OTHER });
    expectProblem(await other.getTask(mine.id), 404, "urn:taskapi:problem:not-found");
    expectProblem(await other.updateTask(mine.id, { title: "mine now" }), 404, "urn:taskapi:problem:not-found");
    expectProblem(await other.deleteTask(mine.id), 404, "urn:taskapi:problem:not-found");
    const theirs = expectOk(await other.listTasks({ tag: runTag }));
    assert.deepEqual(theirs.items, []);
    assert.equal(expectOk(await client.getTask(mine.id)).title, "private");
  });
});
