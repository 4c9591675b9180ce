// Worker bootstrap (plain JS so it loads the same way under tsx, vitest and tslab): registers the TypeScript
// loader, then runs task functions exported by .ts modules, named in each message.
const { parentPort } = require('node:worker_threads');
require('tsx/cjs/api').register();

const modules = new Map();
parentPort.on('message', async (msg) => {
  try {
    let mod = modules.get(msg.module);
    if (!mod) {
      mod = require(taskModulePath(msg.module));
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
// `__filename` points at a `.js` file that does not exist: load the `.ts` source next to it instead.
function taskModulePath(path) {
  const { existsSync } = require('node:fs');
  if (path.endsWith('.js') && !existsSync(path)) {
    const ts = `${path.slice(0, -3)}.ts`;
    if (existsSync(ts)) return ts;
  }
  return path;
}
