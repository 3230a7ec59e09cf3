// Smoke test for server.mjs: for each algorithm, start a real Better Auth
// server, sign up two users, fetch their JWTs and the JWKS, verify the
// signatures with node:crypto (independent of Better Auth's own jose), then
// restart and check that the key id changes.
//
//   node smoke.mjs                 # all algorithms
//   node smoke.mjs EdDSA RS256     # some
//   node smoke.mjs --show EdDSA    # also print example JWT header/payload + JWKS
//
// Ends with a "N passed, N failed" line; exit code 1 on any failure.

import { spawn } from "node:child_process";
import crypto from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decodeJwt, getJwks, getJwt, getSession, signIn, signUp, SESSION_COOKIE } from "./client.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ALL = ["EdDSA", "ES256", "ES512", "RS256", "PS256"];
const argv = process.argv.slice(2);
const show = argv.includes("--show");
const algs = argv.filter((a) => !a.startsWith("--"));
const selected = algs.length ? algs : ALL;

let passed = 0;
let failed = 0;
function check(name, cond, detail = "") {
  if (cond) passed++;
  else failed++;
  console.log(`${cond ? "ok  " : "FAIL"} ${name}${detail ? " — " + detail : ""}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// port 0: let server.mjs pick (PORT=0); the ready line reports the real URL.
async function startServer(alg, { explicitPort = true } = {}) {
  const port = explicitPort ? await freePort() : 0;
  const t0 = performance.now();
  const child = spawn(process.execPath, ["server.mjs"], {
    cwd: here,
    env: { ...process.env, PORT: String(port), JWT_ALG: alg },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const ready = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server not ready in 15s; stderr:\n${stderr}`)), 15000);
    child.stdout.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}; stderr:\n${stderr}`));
    });
  });
  const startupMs = Math.round(performance.now() - t0);
  return { child, port: port || Number(new URL(ready.url).port), ready, startupMs, stderr: () => stderr };
}

async function stopServer(srv) {
  const t0 = performance.now();
  const code = await new Promise((resolve) => {
    srv.child.once("exit", (c) => resolve(c));
    srv.child.kill("SIGTERM");
  });
  return { code, ms: Math.round(performance.now() - t0) };
}

// JWS verification with node:crypto only.
function verifyJws(token, jwk) {
  const [h, p, s] = token.split(".");
  const { alg } = JSON.parse(Buffer.from(h, "base64url"));
  const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, "base64url");
  switch (alg) {
    case "EdDSA":
      return crypto.verify(null, data, key, sig);
    case "ES256":
      return crypto.verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, sig);
    case "ES512":
      return crypto.verify("sha512", data, { key, dsaEncoding: "ieee-p1363" }, sig);
    case "RS256":
      return crypto.verify("sha256", data, key, sig);
    case "PS256":
      return crypto.verify(
        "sha256",
        data,
        { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        sig,
      );
    default:
      throw new Error(`unknown alg ${alg}`);
  }
}

const EXPECT = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
  ES512: { kty: "EC", crv: "P-521" },
  RS256: { kty: "RSA" },
  PS256: { kty: "RSA" },
};

for (const alg of selected) {
  console.log(`\n=== ${alg} ===`);
  let srv;
  try {
    srv = await startServer(alg);
    const base = srv.ready.url;
    check(`${alg}: ready line`, srv.ready.ready === true && srv.ready.alg === alg && base === `http://127.0.0.1:${srv.port}`,
      `${JSON.stringify(srv.ready)} in ${srv.startupMs} ms`);

    const alice = await signUp(base, `alice-${alg}@example.com`, "password-alice-1", "Alice");
    const bob = await signUp(base, `bob-${alg}@example.com`, "password-bob-1", "Bob");
    check(`${alg}: sign-up sets ${SESSION_COOKIE}`, alice.cookie.startsWith(SESSION_COOKIE + "=") && bob.cookie.startsWith(SESSION_COOKIE + "="));
    check(`${alg}: two distinct user ids`, alice.user.id && bob.user.id && alice.user.id !== bob.user.id);

    const jwtA = await getJwt(base, alice);
    const jwtB = await getJwt(base, bob);
    const jwks = await getJwks(base);
    const a = decodeJwt(jwtA);
    const b = decodeJwt(jwtB);
    check(`${alg}: header alg`, a.header.alg === alg, JSON.stringify(a.header));
    check(`${alg}: header has kid`, typeof a.header.kid === "string" && a.header.kid.length > 0);
    check(`${alg}: sub = user id`, a.payload.sub === alice.user.id && b.payload.sub === bob.user.id);
    check(`${alg}: iss = aud = base URL`, a.payload.iss === base && a.payload.aud === base);
    check(`${alg}: exp - iat = 900`, a.payload.exp - a.payload.iat === 900, `${a.payload.exp - a.payload.iat}`);
    // Better Auth stores (and signs) the email lower-cased.
    check(`${alg}: email (lower-cased)/name claims`, a.payload.email === `alice-${alg}@example.com`.toLowerCase() && a.payload.name === "Alice",
      `${a.payload.email} ${a.payload.name}`);
    check(`${alg}: no typ in JWT header`, a.header.typ === undefined);

    check(`${alg}: JWKS has exactly 1 key`, jwks.keys.length === 1, `${jwks.keys.length}`);
    const k = jwks.keys.find((x) => x.kid === a.header.kid);
    check(`${alg}: JWKS key matches kid`, !!k);
    check(`${alg}: JWKS key kty/crv/alg`, k && k.kty === EXPECT[alg].kty && k.crv === EXPECT[alg].crv && k.alg === alg,
      k && JSON.stringify({ kty: k.kty, crv: k.crv, alg: k.alg, use: k.use }));
    check(`${alg}: JWT signatures verify (node:crypto)`, k && verifyJws(jwtA, k) && verifyJws(jwtB, k));
    const tampered = jwtA.replace(/\.([^.]+)\./, (_, p) => "." + Buffer.from(JSON.stringify({ ...a.payload, sub: bob.user.id })).toString("base64url") + ".");
    check(`${alg}: tampered JWT does not verify`, k && !verifyJws(tampered, k));

    const sess = await getSession(base, alice);
    const s = sess.jwt && decodeJwt(sess.jwt);
    check(`${alg}: get-session set-auth-jwt header`, s && s.header.kid === a.header.kid && s.payload.sub === alice.user.id && verifyJws(sess.jwt, k));

    const alice2 = await signIn(base, `alice-${alg}@example.com`, "password-alice-1");
    const jwtA2 = await getJwt(base, alice2);
    check(`${alg}: sign-in gives new session with same sub`, alice2.cookie !== alice.cookie && decodeJwt(jwtA2).payload.sub === alice.user.id);

    if (show) {
      console.log("JWT header :", JSON.stringify(a.header));
      console.log("JWT payload:", JSON.stringify(a.payload));
      console.log("JWKS       :", JSON.stringify(jwks));
      console.log("JWT        :", jwtA);
    }

    const stopped = await stopServer(srv);
    srv = null;
    check(`${alg}: SIGTERM exits 0 promptly`, stopped.code === 0 && stopped.ms < 2000, `code ${stopped.code} in ${stopped.ms} ms`);

    // Restart (this time with PORT=0): empty store, new key pair.
    srv = await startServer(alg, { explicitPort: false });
    check(`${alg}: PORT=0 ready line has real port`, srv.port > 0, srv.ready.url);
    const base2 = srv.ready.url;
    const carol = await signUp(base2, `alice-${alg}@example.com`, "password-alice-1", "Alice again");
    const jwtC = await getJwt(base2, carol);
    const jwks2 = await getJwks(base2);
    const c = decodeJwt(jwtC);
    check(`${alg}: restart -> new kid`, c.header.kid !== a.header.kid, `${a.header.kid} -> ${c.header.kid}`);
    check(`${alg}: restart -> old kid gone from JWKS`, jwks2.keys.length === 1 && !jwks2.keys.some((x) => x.kid === a.header.kid));
    check(`${alg}: restart -> users wiped (same email signs up again)`, carol.user.id !== alice.user.id);
    const s2 = await stopServer(srv);
    srv = null;
    check(`${alg}: second SIGTERM exits 0`, s2.code === 0, `code ${s2.code} in ${s2.ms} ms`);
  } catch (err) {
    check(`${alg}: no exception`, false, err.stack ?? String(err));
    if (srv) {
      console.log(srv.stderr());
      await stopServer(srv);
    }
  }
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
