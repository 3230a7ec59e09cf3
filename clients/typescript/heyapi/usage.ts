// Compiled (never run) by `npm run check:heyapi`: the SDK that @hey-api/openapi-ts generates
// from the same spec is usable with strict types. .heyapi/ is generated and git-ignored.
import { createClient } from "../.heyapi/client/client/index.js";
import { createTask, listTasks, updateTask, type Problem, type Task } from "../.heyapi/client/index.js";

const client = createClient({ baseUrl: "http://127.0.0.1:8080", auth: () => "a bearer token" });

export async function demo(): Promise<Task | Problem> {
  const created = await createTask({ client, body: { title: "Buy milk" } });
  if (created.error) return created.error; // a Problem
  const task: Task = created.data;

  const page = await listTasks({ client, query: { tag: "shopping", limit: 2 } });
  const cursor: string | null | undefined = page.data?.next_cursor;

  // @ts-expect-error title is required on create
  await createTask({ client, body: { priority: "high" } });
  // @ts-expect-error title cannot be null in a merge patch
  await updateTask({ client, path: { id: task.id }, body: { title: null } });

  const patched = await updateTask({
    client,
    path: { id: task.id },
    body: { description: null, completed: true },
    headers: { "Content-Type": "application/merge-patch+json" },
  });
  void cursor;
  return patched.error ?? patched.data ?? task;
}
