// Builds this folder's JavaScript into a component with componentize-js.
// `cargo xtask components` runs it as
//
//   node build.mjs --modules <node_modules> --wit <dir> --world <world> --out <file.wasm>
//
// where <node_modules> holds componentize-js installed from this folder's
// package-lock.json (`npm ci` in this folder: ./node_modules) and <dir> the WIT
// world the build derived from component.toml's grants. The entry is package.json's
// `main`; it may import other modules of this folder by relative path.

import { readFile, writeFile, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    modules: { type: 'string', default: join(here, 'node_modules') },
    wit: { type: 'string' },
    world: { type: 'string', default: 'qualifier' },
    out: { type: 'string' },
  },
});
if (!args.wit || !args.out) {
  console.error('usage: node build.mjs [--modules <node_modules>] --wit <dir> [--world <world>] --out <file.wasm>');
  process.exit(2);
}

// componentize-js is ESM-only: import it by the entry its package.json exports.
const pkgDir = join(resolve(args.modules), '@bytecodealliance', 'componentize-js');
const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
const entry = typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.import ?? pkg.main;
const { componentize } = await import(pathToFileURL(join(pkgDir, entry)).href);

const app = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'));
const started = Date.now();
const { component } = await componentize({
  sourcePath: join(here, app.main),
  witPath: resolve(args.wit),
  worldName: args.world,
  // No fetch(): the host links no wasi:http, and a qualifier has no network.
  disableFeatures: ['http', 'fetch-event'],
});
const tmp = `${args.out}.tmp`;
await writeFile(tmp, component);
await rename(tmp, args.out);
console.log(
  `componentize-js ${pkg.version}: ${app.main} → ${args.out} ` +
    `(${(component.length / 1048576).toFixed(1)} MiB, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
