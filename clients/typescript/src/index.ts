/**
 * A small typed client for taskapi on top of openapi-fetch.
 *
 * Every type here comes from `./schema.d.ts`, which openapi-typescript generates from
 * `openapi.yaml` (`npm run generate`); nothing about the API is written out by hand.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];

/** An RFC 9457 problem, the body of every error response. */
export type Problem = Schemas["Problem"];
export type Task = Schemas["Task"];
export type TaskPage = Schemas["TaskPage"];
export type TaskInput = Schemas["TaskInput"];
export type TaskPatch = Schemas["TaskPatch"];
export type TaskId = components["parameters"]["TaskId"];
export type ListTasksQuery = NonNullable<operations["listTasks"]["parameters"]["query"]>;

/** Either the response body of a success or the problem of a failure; switch on `ok`. */
export type Result<T> =
  | { ok: true; data: T; problem?: never; response: Response }
  | { ok: false; data?: never; problem: Problem; response: Response };

/** A bearer token, or a function that returns the current one (called before each request). */
export type TokenSource = string | (() => string | Promise<string>);

export interface TaskClientOptions {
  /** The server's root URL, e.g. `https://api.example.com` (no `/api` suffix). */
  baseUrl: string;
  token: TokenSource;
  /** A custom fetch (tests, SSR); defaults to `globalThis.fetch`. */
  fetch?: ClientOptions["fetch"];
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Send `Prefer: handling=strict`: a field or query parameter the API does not have is then
   * a 422 or 400 problem instead of being ignored (and named in the `Warning` header).
   */
  strict?: boolean;
}

export interface TaskClient {
  listTasks(query?: ListTasksQuery, options?: CallOptions): Promise<Result<TaskPage>>;
  createTask(body: TaskInput, options?: CallOptions): Promise<Result<Task>>;
  getTask(id: TaskId, options?: CallOptions): Promise<Result<Task>>;
  /** PUT: the fields given are set, the others keep their values (as an edit form sends). */
  replaceTask(id: TaskId, body: TaskPatch, options?: CallOptions): Promise<Result<Task>>;
  /** A JSON merge patch: absent fields are kept, `null` clears `description` / `due_date`. */
  updateTask(id: TaskId, patch: TaskPatch, options?: CallOptions): Promise<Result<Task>>;
  deleteTask(id: TaskId, options?: CallOptions): Promise<Result<undefined>>;
  /** The underlying openapi-fetch client, for anything the methods above do not cover. */
  raw: Client<paths>;
}

export function createTaskClient(options: TaskClientOptions): TaskClient {
  const { baseUrl, token } = options;
  const raw = createClient<paths>(
    options.fetch === undefined ? { baseUrl } : { baseUrl, fetch: options.fetch },
  );
  raw.use({
    async onRequest({ request }) {
      const value = typeof token === "string" ? token : await token();
      request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
  });

  // `signal: undefined` is not allowed under exactOptionalPropertyTypes, so pass it only when set.
  const init = (o: CallOptions | undefined) => ({
    ...(o?.signal ? { signal: o.signal } : {}),
    ...(o?.strict ? { headers: { Prefer: "handling=strict" } } : {}),
  });

  return {
    raw,
    listTasks: (query = {}, o) => settle(raw.GET("/api/tasks", { params: { query }, ...init(o) })),
    createTask: (body, o) => settle(raw.POST("/api/tasks", { body, ...init(o) })),
    getTask: (id, o) => settle(raw.GET("/api/tasks/{id}", { params: { path: { id } }, ...init(o) })),
    replaceTask: (id, body, o) =>
      settle(raw.PUT("/api/tasks/{id}", { params: { path: { id } }, body, ...init(o) })),
    updateTask: (id, patch, o) =>
      settle(
        raw.PATCH("/api/tasks/{id}", {
          params: { path: { id } },
          body: patch,
          ...init(o),
          headers: {
            "Content-Type": "application/merge-patch+json",
            ...(o?.strict ? { Prefer: "handling=strict" } : {}),
          },
        }),
      ),
    deleteTask: (id, o) =>
      settle(raw.DELETE("/api/tasks/{id}", { params: { path: { id } }, ...init(o) })),
  };
}

/** The shape of every openapi-fetch result (its error is the typed problem body). */
type Outcome<T> =
  | { data: T; error?: never; response: Response }
  | { data?: never; error: Problem; response: Response };

async function settle<T>(pending: Promise<Outcome<T>>): Promise<Result<T>> {
  const { data, error, response } = await pending;
  if (error !== undefined || !response.ok) {
    return { ok: false, problem: toProblem(error, response), response };
  }
  return { ok: true, data, response };
}

/**
 * The problem in an error response. taskapi always sends one, but a proxy or gateway in
 * between may answer with an empty or non-JSON body: that becomes an `about:blank` problem.
 */
function toProblem(body: unknown, response: Response): Problem {
  if (isProblem(body)) return body;
  const text = typeof body === "string" ? body.trim() : "";
  return {
    type: "about:blank",
    title: response.statusText,
    status: response.status,
    detail: text === "" ? `HTTP ${response.status} with no problem body` : text.slice(0, 500),
  };
}

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    typeof value.type === "string" &&
    "title" in value &&
    typeof value.title === "string" &&
    "status" in value &&
    typeof value.status === "number" &&
    "detail" in value &&
    typeof value.detail === "string"
  );
}
