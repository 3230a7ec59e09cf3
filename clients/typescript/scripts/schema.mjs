// Generates src/schema.d.ts from the contract with openapi-typescript, or checks that the
// checked-in file is what the contract generates now.
//   node scripts/schema.mjs generate   (npm run generate)
//   node scripts/schema.mjs check      (npm run check:stale; exits 1 when stale)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const spec = resolve(root, "../../openapi.yaml");
const target = resolve(root, "src/schema.d.ts");
const cli = join(dirname(createRequire(import.meta.url).resolve("openapi-typescript/package.json")), "bin/cli.js");

function generate(out) {
  execFileSync(process.execPath, [cli, relative(root, spec), "--output", out], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

const mode = process.argv[2];
if (mode === "generate") {
  generate(relative(root, target));
} else if (mode === "check") {
  const dir = mkdtempSync(join(tmpdir(), "taskapi-schema-"));
  try {
    const fresh = join(dir, "schema.d.ts");
    generate(fresh);
    const want = readFileSync(fresh, "utf8");
    let have = "";
    try {
      have = readFileSync(target, "utf8");
    } catch {
      // missing counts as stale
    }
    if (have !== want) {
      const a = have.split("\n");
      const b = want.split("\n");
      let line = 0;
      while (line < a.length && a[line] === b[line]) line++;
      console.error(
        `\nSTALE: ${relative(root, target)} is not what openapi-typescript generates from ${relative(root, spec)}` +
          ` (first difference at line ${line + 1}).\n` +
          "Run `npm run generate` in clients/typescript and commit the result.",
      );
      process.exit(1);
    }
    console.log(`${relative(root, target)} is up to date with ${relative(root, spec)}.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  console.error("usage: node scripts/schema.mjs generate|check");
  process.exit(2);
}
