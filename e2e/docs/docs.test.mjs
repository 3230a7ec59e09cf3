// Browser checks of the API documentation that taskapi serves: Swagger UI at /docs and ReDoc
// at /redoc, driven with playwright-core and the machine's own Chromium (Debian's package; no
// browser is ever downloaded).
//
//   BASE_URL=http://127.0.0.1:8080 TOKEN=<bearer token> npm test
//
// Env:
//   BASE_URL       the running server (required)
//   TOKEN          a valid bearer token for it, e.g. from `taskapi token --sub alice` (required)
//   CHROMIUM_PATH  the browser to drive (default /usr/bin/chromium)
//
// Fails on: an operation of /openapi.json missing from Swagger UI, a try-it-out of
// GET /api/tasks that does not show 200, ReDoc not rendering, any request to an origin other
// than BASE_URL's (no CDN), a page error, or a console error. Screenshots go to ./out/.
// Runs under `node --test` or plain `node docs.test.mjs`; either exits non-zero on failure.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const STEP_TIMEOUT = 15_000; // any single wait: a locator, a navigation, a fetch
const SUBTEST_TIMEOUT = 60_000;
const TOTAL_TIMEOUT = 180_000;

const BASE_URL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
const TOKEN = process.env.TOKEN ?? '';
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url));

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of an OpenAPI document as "METHOD /path". */
function operationsOf(spec) {
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      if (item?.[method]) ops.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return ops.sort();
}

/** Requests that leave BASE_URL's origin; data: URLs never touch the network. */
function isForeign(url, origin) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return true;
  }
  if (parsed.protocol === 'data:') return false;
  return parsed.origin !== origin; // blob:http://host/... has the origin of its creator
}

test('taskapi serves working API docs with no third-party requests', { timeout: TOTAL_TIMEOUT }, async (t) => {
  assert.ok(BASE_URL, 'set BASE_URL to the running server, e.g. http://127.0.0.1:8080');
  assert.ok(TOKEN, 'set TOKEN to a valid bearer token for it');
  assert.ok(existsSync(CHROMIUM_PATH), `no browser at ${CHROMIUM_PATH}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  const origin = new URL(BASE_URL).origin;

  const specResponse = await fetch(`${BASE_URL}/openapi.json`, { signal: AbortSignal.timeout(STEP_TIMEOUT) });
  assert.equal(specResponse.status, 200, 'GET /openapi.json');
  const spec = await specResponse.json();
  const expectedOps = operationsOf(spec);
  assert.ok(expectedOps.length > 0, '/openapi.json has no operations');
  const listTasks = spec.paths?.['/api/tasks']?.get;
  assert.ok(listTasks, 'the spec has no GET /api/tasks');

  await mkdir(OUT_DIR, { recursive: true });

  // What every page did, checked in the last subtest (and reported even if an earlier one fails).
  const requests = []; // every URL any page (or its workers) asked for
  const foreign = []; // those that left BASE_URL's origin (aborted, so nothing is fetched)
  const pageErrors = [];
  const consoleErrors = [];
  const failedRequests = []; // same-origin requests that failed or answered >= 400

  // chromium.launch starts the browser on a fresh temporary profile (user-data dir) that
  // Playwright deletes on close; Chromium's own scratch files go to a TMPDIR of ours, removed
  // in the finally block, so a run leaves nothing behind.
  const profileParent = await mkdtemp(join(tmpdir(), 'taskapi-docs-e2e-'));
  let browser;
  try {
    // Chromium's own services (sign-in, component and extension updates) look up Google hosts
    // even with the flags above; resolving only BASE_URL's host keeps every lookup local.
    const host = new URL(BASE_URL).hostname.replace(/^\[|\]$/g, '');
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${host}`],
      timeout: STEP_TIMEOUT * 2,
      env: { ...process.env, TMPDIR: profileParent },
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT);
    context.setDefaultNavigationTimeout(STEP_TIMEOUT);

    context.on('request', (request) => {
      requests.push(`${request.method()} ${request.url()}`);
      if (isForeign(request.url(), origin)) foreign.push(`${request.method()} ${request.url()}`);
    });
    context.on('requestfailed', (request) => {
      if (!isForeign(request.url(), origin)) {
        failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
      }
    });
    context.on('response', (response) => {
      if (response.status() >= 400 && !isForeign(response.url(), origin)) {
        failedRequests.push(`${response.request().method()} ${response.url()}: HTTP ${response.status()}`);
      }
    });
    // Never let a request out: a CDN reference fails the run, it is not fetched.
    await context.route(
      (url) => isForeign(url.href, origin),
      (route) => route.abort('blockedbyclient'),
    );

    const newPage = async (name) => {
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.stack ?? error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') {
          const { url, lineNumber } = message.location();
          consoleErrors.push(`${name}: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
        }
      });
      return page;
    };

    const swagger = await newPage('/docs');

    await t.test('Swagger UI at /docs lists every operation of /openapi.json', { timeout: SUBTEST_TIMEOUT }, async () => {
      const response = await swagger.goto(`${BASE_URL}/docs`);
      assert.equal(response?.status(), 200, 'GET /docs');
      await swagger.locator('.swagger-ui .information-container .title').filter({ hasText: spec.info.title }).waitFor();
      const opblocks = swagger.locator('.swagger-ui .opblock');
      await opblocks.first().waitFor();
      // Swagger UI renders every tag's operations at once; give it until they are all there,
      // then compare (so a failure names the missing ones).
      await waitFor(async () => (await opblocks.count()) >= expectedOps.length).catch(() => {});
      const rendered = await opblocks.evaluateAll((blocks) =>
        blocks.map((block) => {
          const method = block.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
          const pathEl = block.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated');
          // data-path is the raw template; the text has <wbr>s but no extra characters.
          const path = pathEl?.getAttribute('data-path') ?? pathEl?.textContent?.replace(/\u200b/g, '').trim() ?? '';
          return `${method.toUpperCase()} ${path}`;
        }),
      );
      const missing = expectedOps.filter((op) => !rendered.includes(op));
      assert.deepEqual(missing, [], `operations not shown by Swagger UI (shown: ${rendered.join(', ')})`);
      await swagger.screenshot({ path: join(OUT_DIR, 'docs.png'), fullPage: true });
    });

    await t.test('Swagger UI: Authorize with the bearer token, then try out GET /api/tasks and get 200', { timeout: SUBTEST_TIMEOUT }, async () => {
      const authorize = swagger.locator('.swagger-ui .auth-wrapper button.authorize');
      await authorize.click();
      const dialog = swagger.locator('.swagger-ui .dialog-ux .modal-ux');
      await dialog.waitFor();
      const bearer = dialog.locator('.auth-container').filter({ hasText: 'bearerAuth' });
      await bearer.locator('input#auth-bearer-value').fill(TOKEN);
      // The scheme's own buttons (its Authorize is labelled "Apply credentials" for screen readers).
      await bearer.locator('.auth-btn-wrapper button.authorize').click();
      await bearer.getByText('Authorized', { exact: true }).waitFor(); // Swagger UI's confirmation
      await bearer.locator('.auth-btn-wrapper button.btn-done').click();
      await dialog.waitFor({ state: 'detached' });
      await swagger.locator('.swagger-ui .auth-wrapper button.authorize.locked').waitFor();

      // The block for GET /api/tasks, found by method and path (its id also carries the tag
      // and operationId: operations-tasks-listTasks).
      const block = swagger
        .locator('.swagger-ui .opblock.opblock-get')
        .filter({ has: swagger.locator('.opblock-summary-path[data-path="/api/tasks"]') });
      await assert.doesNotReject(waitFor(async () => (await block.count()) === 1), 'exactly one GET /api/tasks block');
      if (!(await block.evaluate((el) => el.classList.contains('is-open')))) {
        await block.locator('.opblock-summary-control').click();
      }
      await block.locator('.opblock-body').waitFor();
      await block.getByRole('button', { name: 'Try it out' }).click();
      await block.getByRole('button', { name: 'Execute' }).click();

      const live = block.locator('.responses-wrapper .live-responses-table');
      // The first row of the live table is the response received; wait until it has a code.
      const status = live.locator('tbody .response .response-col_status').filter({ hasText: /\d{3}/ }).first();
      await status.waitFor();
      const statusText = (await status.textContent())?.trim() ?? '';
      const body = (await live.locator('tbody .response .response-col_description').first().textContent()) ?? '';
      const requestUrl = (await block.locator('.request-url pre').first().textContent().catch(() => '')) ?? '';
      const curl = (await block.locator('.curl-command').first().textContent().catch(() => '')) ?? '';
      await block.scrollIntoViewIfNeeded();
      await block.screenshot({ path: join(OUT_DIR, 'docs-try-it-out.png') });
      assert.match(statusText, /^200\b/, `live response status of ${requestUrl.trim()} (details: ${body.slice(0, 400)})`);
      assert.match(body, /"items"/, 'the live response body is a page of tasks');
      assert.match(curl, /Authorization: Bearer /, 'the request carried the bearer token');
    });

    await t.test('ReDoc at /redoc renders the title and the operations', { timeout: SUBTEST_TIMEOUT }, async () => {
      const redoc = await newPage('/redoc');
      const response = await redoc.goto(`${BASE_URL}/redoc`);
      assert.equal(response?.status(), 200, 'GET /redoc');
      await redoc.locator('.api-info h1').filter({ hasText: spec.info.title }).waitFor();
      const summary = new RegExp(`^\\s*${escapeRegExp(listTasks.summary)}\\s*$`);
      await redoc.locator('h2').filter({ hasText: summary }).first().waitFor(); // the operation's section
      await redoc.screenshot({ path: join(OUT_DIR, 'redoc.png') });
      // The side menu: open the operation's tag group, then its entry shows.
      const menu = redoc.locator('.menu-content');
      const tag = listTasks.tags?.[0];
      if (tag) await menu.getByRole('menuitem', { name: tag, exact: true }).locator('label').first().click();
      await menu.getByRole('menuitem', { name: listTasks.summary, exact: true }).waitFor();
    });

    await t.test('nothing loaded from another origin, no page or console errors, no failed requests', () => {
      assert.ok(requests.length > 0, 'no requests were recorded');
      // One comparison, so a failure lists every kind of problem at once.
      assert.deepEqual(
        { foreignRequests: foreign, pageErrors, consoleErrors, failedRequests },
        { foreignRequests: [], pageErrors: [], consoleErrors: [], failedRequests: [] },
        `the pages must load only from ${origin} and raise no errors`,
      );
    });
  } finally {
    await browser?.close().catch(() => {});
    await rm(profileParent, { recursive: true, force: true }).catch(() => {});
  }
});

/** Polls cond until it is true, for at most STEP_TIMEOUT. */
async function waitFor(cond, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
