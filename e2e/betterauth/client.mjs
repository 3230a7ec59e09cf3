// Minimal client for the test Better Auth server (server.mjs). It makes the
// exact HTTP calls documented in README.md; the Go e2e tests make the same
// calls themselves. Uses only global fetch (Node >= 18).

export const SESSION_COOKIE = "better-auth.session_token";

async function call(baseURL, method, path, { cookie, body } = {}) {
  const headers = { Origin: baseURL };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (cookie) headers.Cookie = cookie;
  const res = await fetch(baseURL + "/api/auth" + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
    err.status = res.status;
    err.body = json;
    throw err;
  }
  return { res, json };
}

// Returns "better-auth.session_token=<value>" exactly as the server set it
// (value is "<token>.<signature>", URL-encoded; send it back unchanged).
function sessionCookieFrom(res) {
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(";", 1)[0];
    if (pair.startsWith(SESSION_COOKIE + "=")) return pair;
  }
  throw new Error(`no ${SESSION_COOKIE} in Set-Cookie`);
}

/** POST /api/auth/sign-up/email. Returns { cookie, token, user }. */
export async function signUp(baseURL, email, password, name) {
  const { res, json } = await call(baseURL, "POST", "/sign-up/email", { body: { email, password, name } });
  return { cookie: sessionCookieFrom(res), token: json.token, user: json.user };
}

/** POST /api/auth/sign-in/email (new session for an existing user). Returns { cookie, token, user }. */
export async function signIn(baseURL, email, password) {
  const { res, json } = await call(baseURL, "POST", "/sign-in/email", { body: { email, password } });
  return { cookie: sessionCookieFrom(res), token: json.token, user: json.user };
}

/** GET /api/auth/token with the session cookie. `session` is the cookie string or a signUp/signIn result. */
export async function getJwt(baseURL, session) {
  const cookie = typeof session === "string" ? session : session.cookie;
  const { json } = await call(baseURL, "GET", "/token", { cookie });
  return json.token;
}

/** GET /api/auth/get-session; returns { jwt: <set-auth-jwt header>, body }. */
export async function getSession(baseURL, session) {
  const cookie = typeof session === "string" ? session : session.cookie;
  const { res, json } = await call(baseURL, "GET", "/get-session", { cookie });
  return { jwt: res.headers.get("set-auth-jwt"), body: json };
}

/** GET /api/auth/jwks → { keys: [...] } */
export async function getJwks(baseURL) {
  const { json } = await call(baseURL, "GET", "/jwks");
  return json;
}

/** Decodes (does NOT verify) a compact JWS. */
export function decodeJwt(token) {
  const [h, p] = token.split(".");
  const dec = (s) => JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
  return { header: dec(h), payload: dec(p) };
}
