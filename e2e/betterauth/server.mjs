// A real Better Auth server for taskapi's Go end-to-end tests.
//
//   PORT=4000 [JWT_ALG=EdDSA|ES256|ES512|RS256|PS256] [BASE_URL=...] node server.mjs
//
// (PORT / JWT_ALG / BASE_URL may also be given as --port=, --alg=, --base-url=.)
// Optional: JWT_ISSUER, JWT_AUDIENCE (default: BASE_URL), JWT_EXPIRATION
// (default "15m"), BETTER_AUTH_SECRET (default: a fixed test-only string).
//
// Storage is Better Auth's in-memory adapter, created empty on every start:
// users, sessions and the JWKS key pair live only as long as this process, so
// every restart mints a NEW signing key (new kid) on first use.
//
// PORT=0 lets the OS choose a free port; the ready line carries the real URL.
// Once listening, prints exactly one JSON line to stdout:
//   {"ready":true,"url":"http://127.0.0.1:PORT","alg":"EdDSA"}
// Everything else (logs, errors) goes to stderr. Exits 0 on SIGTERM/SIGINT.

import http from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

function arg(name) {
  const prefix = `--${name}=`;
  const hit = process.argv.slice(2).find((a) => a.startsWith(prefix));
  return hit === undefined ? undefined : hit.slice(prefix.length);
}

function fail(msg) {
  process.stderr.write(`betterauth server: ${msg}\n`);
  process.exit(2);
}

const portRaw = arg("port") ?? process.env.PORT;
if (!portRaw) fail("PORT is required (env PORT or --port=N)");
const port = Number(portRaw);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid PORT ${JSON.stringify(portRaw)}`);

const alg = arg("alg") ?? process.env.JWT_ALG ?? "EdDSA";
// Option names per better-auth's JWKOptions type (dist/plugins/jwt/types.d.mts).
const KEY_PAIR_CONFIGS = {
  EdDSA: { alg: "EdDSA", crv: "Ed25519" },
  ES256: { alg: "ES256" },
  ES512: { alg: "ES512" },
  RS256: { alg: "RS256", modulusLength: 2048 },
  PS256: { alg: "PS256", modulusLength: 2048 },
};
const keyPairConfig = KEY_PAIR_CONFIGS[alg];
if (!keyPairConfig) fail(`invalid JWT_ALG ${JSON.stringify(alg)}; want one of ${Object.keys(KEY_PAIR_CONFIGS).join(", ")}`);

const baseURLOverride = (arg("base-url") ?? process.env.BASE_URL)?.replace(/\/+$/, "");
// Optional JWT claim overrides (defaults: iss = aud = BASE_URL, exp = iat + 15m).
// JWT_EXPIRATION is a time span understood by Better Auth, e.g. "15m", "5s", "1h".
const jwtClaims = {};
if (process.env.JWT_ISSUER) jwtClaims.issuer = process.env.JWT_ISSUER;
if (process.env.JWT_AUDIENCE) jwtClaims.audience = process.env.JWT_AUDIENCE;
if (process.env.JWT_EXPIRATION) jwtClaims.expirationTime = process.env.JWT_EXPIRATION;

const secret =
  process.env.BETTER_AUTH_SECRET ?? "taskapi-e2e-only-not-a-secret-0123456789abcdef0123456789abcdef";

// Fresh, empty in-memory database on every start.
const db = { user: [], session: [], account: [], verification: [], jwks: [] };

// Built once the real port is known (PORT=0 lets the OS pick one).
function makeAuth(listenURL) {
  const baseURL = baseURLOverride ?? listenURL;
  return betterAuth({
    appName: "taskapi-e2e",
    baseURL,
    basePath: "/api/auth",
    secret,
    database: memoryAdapter(db),
    trustedOrigins: [...new Set([baseURL, listenURL])],
    emailAndPassword: {
      enabled: true,
      requireEmailVerification: false,
      autoSignIn: true,
    },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    plugins: [
      jwt({
        jwks: { keyPairConfig },
        jwt: jwtClaims,
      }),
    ],
  });
}

let handler = null;
const server = http.createServer((req, res) => {
  if (!handler) {
    res.writeHead(503, { "content-type": "application/json" });
    res.end('{"error":"starting"}');
    return;
  }
  handler(req, res).catch((err) => {
    process.stderr.write(`betterauth server: handler error: ${err?.stack ?? err}\n`);
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end('{"error":"internal"}');
  });
});
// Tests keep few connections open; do not let keep-alive delay shutdown.
server.keepAliveTimeout = 1000;

server.on("error", (err) => fail(`listen error: ${err.message}`));
server.listen(port, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  handler = toNodeHandler(makeAuth(url));
  process.stdout.write(JSON.stringify({ ready: true, url, alg }) + "\n");
});

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`betterauth server: ${signal}, shutting down\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  // Never hang on shutdown.
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
