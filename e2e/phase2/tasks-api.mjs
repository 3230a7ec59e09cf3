// The task API module of a Phase II frontend, written from the hackathon's published spec
// (its endpoint table and example spec file) the way the teams' Next.js apps write it: fetch,
// a Bearer token from Better Auth, the form's fields sent as they are, PUT with only the
// edited fields, and the toggle route. It was written for a FastAPI + SQLModel backend;
// e2e/phase2_test.go runs it, unchanged, against taskapi.

const API_URL = process.env.API_URL ?? "http://localhost:8000";

export class ApiError extends Error {
  constructor(status, body) {
    super(`API ${status}: ${JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

async function request(path, { token, method = "GET", body } = {}) {
  const res = await fetch(`${API_URL}${path}`, {
    method,
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${token}`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return { data, headers: res.headers };
}

// The example spec's list: GET /api/tasks?status=all|pending|completed&sort=created|title|due_date.
// Like many UIs it also sends the table component's paging and sorting state.
export async function getTasks(token, { status = "all", sort = "created", page = 1 } = {}) {
  const params = new URLSearchParams({ status, sort, page: String(page), sort_by: sort, sort_order: "desc" });
  const { data } = await request(`/api/tasks?${params}`, { token });
  return Array.isArray(data) ? data : data.items; // FastAPI returned a list; taskapi a page
}

// The create form: title and description, plus the form state the backend does not have.
export async function createTask(token, form) {
  const { data } = await request("/api/tasks", {
    token,
    method: "POST",
    body: { title: form.title, description: form.description ?? null, status: "pending", category: form.category ?? "general", completed: false },
  });
  return data;
}

// The edit form sends the fields it shows (FastAPI's exclude_unset update).
export async function updateTask(token, id, changes) {
  const { data } = await request(`/api/tasks/${id}`, { token, method: "PUT", body: changes });
  return data;
}

export async function toggleComplete(token, id) {
  const { data } = await request(`/api/tasks/${id}/complete`, { token, method: "PATCH" });
  return data;
}

export async function deleteTask(token, id) {
  await request(`/api/tasks/${id}`, { token, method: "DELETE" });
}

// The Phase II endpoint table's routes, with the user in the path.
export const byUser = {
  list: (token, userId) => request(`/api/${userId}/tasks`, { token }).then((r) => r.data),
  create: (token, userId, form) =>
    request(`/api/${userId}/tasks`, { token, method: "POST", body: { ...form, user_id: userId } }).then((r) => r.data),
  get: (token, userId, id) => request(`/api/${userId}/tasks/${id}`, { token }).then((r) => r.data),
  update: (token, userId, id, changes) =>
    request(`/api/${userId}/tasks/${id}`, { token, method: "PUT", body: changes }).then((r) => r.data),
  toggle: (token, userId, id) =>
    request(`/api/${userId}/tasks/${id}/complete`, { token, method: "PATCH" }).then((r) => r.data),
  remove: (token, userId, id) => request(`/api/${userId}/tasks/${id}`, { token, method: "DELETE" }),
};

export { request };
