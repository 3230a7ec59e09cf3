// A Phase III chatbot's agent, as the hackathon's teams write it: the official TypeScript MCP
// client with the signed-in user's Better Auth token in the Authorization header, calling
// taskapi's tools. The SDK checks every structured result against the tool's output schema
// (with Ajv, formats included), so a result the schema does not describe fails here.
//
//   MCP_URL=http://127.0.0.1:8080/mcp TOKEN=... USER_ID=... OTHER_TOKEN=... node --test agent.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const { MCP_URL, TOKEN, USER_ID, OTHER_TOKEN } = process.env;
for (const [name, value] of Object.entries({ MCP_URL, TOKEN, USER_ID, OTHER_TOKEN })) {
  if (!value) throw new Error(`${name} is not set`);
}

async function connect(token) {
  const client = new Client({ name: "phase3-agent", version: "1.0.0" });
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), { requestInit: { headers } }));
  return client;
}

async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  assert.ok(result.content.some((c) => c.type === "text" && c.text.length > 0), `${name}: no text`);
  return result;
}

test("an agent manages its user's tasks with the five tools", async () => {
  const agent = await connect(TOKEN);
  try {
    const { tools } = await agent.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["add_task", "complete_task", "delete_task", "list_tasks", "update_task"]);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, "object", t.name);
      assert.ok(t.outputSchema, `${t.name} has no output schema`);
    }

    const added = await call(agent, "add_task", { user_id: USER_ID, title: "Plan the sprint", priority: "high", tags: ["work"] });
    assert.ok(!added.isError, JSON.stringify(added));
    const { task_id: id, status, title } = added.structuredContent;
    assert.equal(status, "created");
    assert.equal(title, "Plan the sprint");

    const listed = await call(agent, "list_tasks", { user_id: USER_ID, status: "pending" });
    assert.deepEqual(listed.structuredContent.tasks.map((t) => t.id), [id]);

    const updated = await call(agent, "update_task", { user_id: USER_ID, task_id: id, title: "Plan the next sprint", description: null });
    assert.equal(updated.structuredContent.title, "Plan the next sprint");

    const completed = await call(agent, "complete_task", { user_id: USER_ID, task_id: id });
    assert.equal(completed.structuredContent.status, "completed");
    assert.equal(completed.structuredContent.task.completed, true);

    const invalid = await call(agent, "add_task", { title: "" });
    assert.equal(invalid.isError, true);
    assert.match(invalid.content[0].text, /title/);

    const deleted = await call(agent, "delete_task", { user_id: USER_ID, task_id: id });
    assert.equal(deleted.structuredContent.status, "deleted");
    const after = await call(agent, "list_tasks", {});
    assert.deepEqual(after.structuredContent.tasks, []);
  } finally {
    await agent.close();
  }
});

test("another user's agent can neither see nor touch them", async () => {
  const agent = await connect(TOKEN);
  const other = await connect(OTHER_TOKEN);
  try {
    const mine = await call(agent, "add_task", { title: "Private" });
    const id = mine.structuredContent.task_id;
    assert.deepEqual((await call(other, "list_tasks", {})).structuredContent.tasks, []);
    for (const [name, args] of [["complete_task", { task_id: id }], ["delete_task", { task_id: id }], ["list_tasks", { user_id: USER_ID }]]) {
      const r = await call(other, name, args);
      assert.equal(r.isError, true, `${name}: ${JSON.stringify(r)}`);
      assert.equal(r.content[0].text, "task not found");
    }
    assert.equal((await call(agent, "list_tasks", {})).structuredContent.tasks[0].completed, false);
  } finally {
    await agent.close();
    await other.close();
  }
});

test("without a token the client is refused", async () => {
  await assert.rejects(connect(""), /401|Unauthorized/i);
  const res = await fetch(MCP_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  assert.equal(res.status, 401);
  const challenge = res.headers.get("www-authenticate");
  const metadata = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  assert.ok(metadata, challenge);
  const body = await (await fetch(metadata)).json();
  assert.deepEqual(body.bearer_methods_supported, ["header"]);
  assert.ok(body.authorization_servers?.length === 1, JSON.stringify(body));
});
