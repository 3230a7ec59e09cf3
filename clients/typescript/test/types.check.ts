// Compile-time checks (npm run typecheck): the client's types come from the generated
// schema, are precise, and reject what the contract rejects. Never imported at run time.
import { createTaskClient, type Problem, type Result, type Task, type TaskPage } from "../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

const c = createTaskClient({ baseUrl: "http://127.0.0.1:8080", token: "t" });
type Returned<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

expectType<Equal<Returned<typeof c.listTasks>, Result<TaskPage>>>();
expectType<Equal<Returned<typeof c.createTask>, Result<Task>>>();
expectType<Equal<Returned<typeof c.deleteTask>, Result<undefined>>>();
expectType<Equal<Problem["errors"], { field: string; message: string }[] | undefined>>();
expectType<Equal<Task["priority"], "low" | "medium" | "high">>();
expectType<Equal<TaskPage["next_cursor"], string | null>>();
// Recurring tasks and reminders (the advanced level) are typed from the contract too.
expectType<Equal<Task["recurrence"], string | null>>();
expectType<Equal<Task["timezone"], string>>();
expectType<Equal<Task["series_id"], string | null>>();
expectType<Equal<Task["remind_at"], string | null>>();

export async function rejected(): Promise<void> {
  // @ts-expect-error title is required on create
  await c.createTask({ priority: "high" });
  // @ts-expect-error unknown fields are rejected in object literals
  await c.createTask({ title: "x", user_id: "mallory" });
  // @ts-expect-error title cannot be cleared by a merge patch
  await c.updateTask("id", { title: null });
  // @ts-expect-error priority is an enum
  await c.updateTask("id", { priority: "urgent" });
  // @ts-expect-error status is an enum
  await c.listTasks({ status: "done" });
  // @ts-expect-error limit is a number
  await c.listTasks({ limit: "2" });
  // Clearing description and due_date is allowed.
  await c.updateTask("id", { description: null, due_date: null });
  // So is setting and clearing a recurrence and a reminder.
  await c.createTask({ title: "standup", due_date: "2027-03-08T14:00:00Z", recurrence: "FREQ=WEEKLY;BYDAY=MO", timezone: "America/New_York" });
  await c.updateTask("id", { recurrence: null, remind_at: null });
  // @ts-expect-error series_id is the server's
  await c.createTask({ title: "x", series_id: "s" });

  const r = await c.getTask("id");
  if (r.ok) {
    const t: Task = r.data;
    // @ts-expect-error no problem on success
    r.problem.status;
    void t;
  } else {
    const p: Problem = r.problem;
    // @ts-expect-error no data on failure
    r.data.id;
    void p;
  }
}
