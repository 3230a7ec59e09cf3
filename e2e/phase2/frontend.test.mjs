// A Phase II frontend's session against taskapi, through its own API module (tasks-api.mjs):
// node --test, with API_URL, TOKEN (for USER_ID) and OTHER_TOKEN (another user) set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, byUser, createTask, deleteTask, getTasks, request, toggleComplete, updateTask } from "./tasks-api.mjs";

const token = process.env.TOKEN;
const other = process.env.OTHER_TOKEN;
const userId = process.env.USER_ID;

test("a Phase II frontend works against taskapi unchanged", async () => {
  // Create with the form's extra fields: 201, the extras ignored and named.
  const milk = await createTask(token, { title: "Buy milk", description: "Two litres", category: "shopping" });
  assert.equal(milk.title, "Buy milk");
  assert.equal(milk.completed, false);
  assert.equal(milk.category, undefined);
  const { headers } = await request("/api/tasks", { token, method: "POST", body: { title: "Call mum", status: "pending" } });
  assert.match(headers.get("warning") ?? "", /ignored unknown field: status/);
  const report = await createTask(token, { title: "Write report" });

  // List with the spec's status and sort names and the table's unknown parameters.
  let tasks = await getTasks(token, { status: "all", sort: "created" });
  assert.deepEqual(tasks.map((t) => t.title), ["Write report", "Call mum", "Buy milk"]);
  tasks = await getTasks(token, { status: "pending", sort: "title" });
  assert.deepEqual(tasks.map((t) => t.title), ["Buy milk", "Call mum", "Write report"]);

  // Complete, then edit the title alone with PUT: still completed.
  const done = await toggleComplete(token, milk.id);
  assert.equal(done.completed, true);
  const edited = await updateTask(token, milk.id, { title: "Buy oat milk" });
  assert.equal(edited.title, "Buy oat milk");
  assert.equal(edited.completed, true, "a PUT of the title reopened the task");
  assert.equal(edited.description, "Two litres");
  assert.deepEqual((await getTasks(token, { status: "completed" })).map((t) => t.id), [milk.id]);

  // The Phase II table's routes, with the user in the path.
  const viaUser = await byUser.create(token, userId, { title: "From the table", priority: "high" });
  assert.equal(viaUser.priority, "high");
  assert.equal((await byUser.toggle(token, userId, viaUser.id)).completed, true);
  assert.equal((await byUser.update(token, userId, viaUser.id, { description: "kept done" })).completed, true);
  assert.equal((await byUser.toggle(token, userId, viaUser.id)).completed, false);
  assert.equal((await byUser.get(token, userId, viaUser.id)).description, "kept done");
  assert.equal((await byUser.list(token, userId)).length, 4);

  // Another user sees none of it, and cannot touch it.
  assert.deepEqual(await getTasks(other), []);
  await assert.rejects(toggleComplete(other, report.id), (e) => e instanceof ApiError && e.status === 404);
  await assert.rejects(byUser.list(other, userId), (e) => e instanceof ApiError && e.status === 404);

  // Delete.
  await deleteTask(token, report.id);
  await byUser.remove(token, userId, viaUser.id);
  tasks = await getTasks(token);
  assert.deepEqual(tasks.map((t) => t.title).sort(), ["Buy oat milk", "Call mum"]);
  await assert.rejects(deleteTask(token, report.id), (e) => e instanceof ApiError && e.status === 404 && e.body.status === 404);
});
