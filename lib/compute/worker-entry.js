// Worker bootstrap (plain JS so it loads the same way under tsx, vitest, tslab and the compiled build in .build/):
// runs task functions exported by the modules named in each message. The TypeScript loader (tsx) is registered
// before the first module that needs it: not at all when every task module is compiled JavaScript (the build).
const { parentPort } = require('node:worker_threads');
let tsx = false;

const modules = new Map();
parentPort.on('message', async (msg) => {
  try {
    let mod = modules.get(msg.module);
    if (!mod) {
      const path = taskModulePath(msg.module);
      if (!tsx && !compiledJs(path)) {
        require('tsx/cjs/api').register();
        tsx = true;
      } else if (!tsx && process.env.REELAB_COMPILE_CACHE && modules.size === 0) {
        require('node:module').enableCompileCache?.(process.env.REELAB_COMPILE_CACHE); // set by bin/reelab.js
      }
      mod = require(path);
      modules.set(msg.module, mod);
    }
    const fn = mod[msg.fn];
    if (typeof fn !== 'function') throw new Error(`${msg.module} has no exported function ${msg.fn}`);
    const result = await fn(msg.payload);
    parentPort.postMessage({ id: msg.id, ok: true, result });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, ok: false, error: err?.stack ? err.stack : String(err) });
  }
});

// Under tslab, lib modules run as in-memory `.js` compilations of their `.ts` sources, so a task named by
// `__filename` points at a `.js` file that does not exist: load the `.ts` source next to it instead. Under the
// build, a task named by its `.ts` path (e.g. `join(__dirname, 'x.ts')`) is the compiled `.js` next to it.
function taskModulePath(path) {
  const { existsSync } = require('node:fs');
  if (path.endsWith('.js') && !existsSync(path)) {
    const ts = `${path.slice(0, -3)}.ts`;
    if (existsSync(ts)) return ts;
  }
  if (path.endsWith('.ts') && !existsSync(path)) {
    const js = `${path.slice(0, -3)}.js`;
    if (existsSync(js)) return js;
  }
  return path;
}

/** True when `path` (with or without its extension) is a .js file Node loads without tsx. */
function compiledJs(path) {
  try {
    return require.resolve(path).endsWith('.js');
  } catch {
    return false;
  }
}
