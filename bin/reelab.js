#!/usr/bin/env node
// The `reelab` command. Runs lib/ from the compiled build in .build/ (CommonJS + source maps, made by
// scripts/setup.sh, git-ignored) when that build is fresh, else through tsx from the TypeScript sources (the same
// sources notebooks and tests load). Fresh means: every file under lib/ (and the inputs below) has exactly the
// size and mtime recorded when the build was made, or, where it does not, exactly the recorded content (sha256);
// no file was added or removed. So an edited source is never run from a stale build: it runs through tsx until
// setup (or `node -e 'require("./bin/reelab.js").buildLib()'`) rebuilds.
//   REELAB_BUILD=off      always tsx;   REELAB_BUILD=require  the build or an error (tests, benchmarks)
//   REELAB_BUILD_DIR=dir  another build folder (inside the checkout, so lib/ finds the project root above it)
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const LIB = path.join(ROOT, 'lib');
const DEFAULT_BUILD_DIR = path.join(ROOT, '.build');
/** Besides lib/: what else decides the build's output (the transform options below live in this file). */
const EXTRA_INPUTS = ['tsconfig.json', 'bin/reelab.js', 'node_modules/esbuild/package.json'];
/** Bumped when the stamp's format changes. */
const STAMP_FORMAT = 1;

/** Every input file, project-relative → "size:mtimeMs" (dotfiles in lib/, e.g. editor swap files, skipped). */
function inputStats() {
  const stats = {};
  const walk = (dir, rel) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else stats[r] = statKey(path.join(dir, e.name));
    }
  };
  walk(LIB, 'lib');
  for (const f of EXTRA_INPUTS) stats[f] = statKey(path.join(ROOT, f));
  return stats;
}

function statKey(file) {
  try {
    const s = fs.statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function sha256(file) {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return 'missing';
  }
}

/** Why `dir` is not a complete build of exactly the current sources (see the top of this file); null: it is. */
function buildProblem(dir = DEFAULT_BUILD_DIR) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(dir, 'stamp.json'), 'utf8'));
  } catch {
    return `no build in ${dir}`;
  }
  if (stamp.format !== STAMP_FORMAT || !stamp.files) return `${dir} has a stamp of another format`;
  const now = inputStats();
  for (const name of Object.keys(now)) {
    const was = stamp.files[name];
    if (!was) return `${name} is new since the build`;
    // Same size and mtime: unchanged. Otherwise (e.g. a checkout rewrote it) compare the content.
    if (was.stat !== now[name] && was.sha256 !== sha256(path.join(ROOT, name)))
      return `${name} changed since the build`;
  }
  for (const name of Object.keys(stamp.files))
    if (!(name in now)) return `${name} was removed since the build`;
  return null;
}

function buildIsFresh(dir = DEFAULT_BUILD_DIR) {
  return buildProblem(dir) === null;
}

/**
 * Compiles every lib/**\/*.ts to CommonJS (esbuild, one file each, the transform tsx applies, with source maps)
 * and copies lib's other files, into `dir`/lib; writes the stamp; replaces `dir` in one rename. Returns seconds.
 */
function buildLib(dir = DEFAULT_BUILD_DIR) {
  const t0 = process.hrtime.bigint();
  const esbuild = require('esbuild');
  // Stat and hash before compiling: a file changed while esbuild reads it then fails the freshness check.
  const stats = inputStats();
  const files = {};
  for (const [name, stat] of Object.entries(stats))
    files[name] = { stat, sha256: sha256(path.join(ROOT, name)) };
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const sources = Object.keys(stats).filter((f) => f.startsWith('lib/'));
  const ts = sources.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  esbuild.buildSync({
    entryPoints: ts.map((f) => path.join(ROOT, f)),
    outbase: LIB,
    outdir: path.join(tmp, 'lib'),
    bundle: false,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    logLevel: 'warning',
  });
  for (const f of sources) {
    if (f.endsWith('.ts')) continue;
    const to = path.join(tmp, f);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), to);
  }
  const stamp = { format: STAMP_FORMAT, builtAt: new Date().toISOString(), node: process.version, files };
  fs.writeFileSync(path.join(tmp, 'stamp.json'), `${JSON.stringify(stamp, null, 1)}\n`);
  const old = `${dir}.old-${process.pid}`;
  try {
    fs.renameSync(dir, old);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  try {
    fs.renameSync(tmp, dir);
  } catch (err) {
    // Another build won the race: its result is as good as ours.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, 'stamp.json'))) throw err;
  }
  fs.rmSync(old, { recursive: true, force: true });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function run() {
  const mode = process.env.REELAB_BUILD || 'auto';
  const dir = process.env.REELAB_BUILD_DIR ? path.resolve(process.env.REELAB_BUILD_DIR) : DEFAULT_BUILD_DIR;
  const problem = mode === 'off' ? 'REELAB_BUILD=off' : buildProblem(dir);
  const fresh = problem === null;
  if (!fresh && mode === 'require') {
    process.stderr.write(`reelab: REELAB_BUILD=require, but ${problem} (scripts/setup.sh rebuilds it)\n`);
    process.exit(1);
  }
  if (fresh) {
    process.setSourceMapsEnabled(true); // stack traces name the .ts sources
    // V8's code cache for the build's modules (checked against each file's content by Node), next to them;
    // worker threads (lib/compute/worker-entry.js) use it too.
    process.env.REELAB_COMPILE_CACHE = path.join(dir, '.compile-cache');
    require('node:module').enableCompileCache?.(process.env.REELAB_COMPILE_CACHE);
    return require(path.join(dir, 'lib', 'cli', 'main.js')).main(process.argv);
  }
  require('tsx/cjs/api').register();
  return require('../lib/cli/main.ts').main(process.argv);
}

module.exports = { buildLib, buildIsFresh, buildProblem, DEFAULT_BUILD_DIR };
if (require.main === module) run();
