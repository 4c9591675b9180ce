import { beforeEach, type TestContext } from 'vitest';
import { findChromium } from '../../lib/viz/chromium';

/**
 * Components some tests need beyond Node: system binaries (Chromium, the PostgreSQL server), the native
 * TensorFlow backend, the MLflow server and the tslab kernel in .venv, real datasets.
 *
 * The rule: under CI (`CI=true`, as .ci/run sets it) a test whose component is missing FAILS with the reason —
 * it never skips and never returns quietly. Anywhere else it skips, and says why (in the skip note and on
 * stderr).
 *
 * `REELAB_FAKE_MISSING=chromium,postgres` (a comma list of component names, or `all`) makes those components
 * look missing, to check that failure path without uninstalling anything.
 */
export type ComponentName =
  | 'chromium'
  | 'postgres'
  | 'tensorflow-native'
  | 'mlflow'
  | 'tslab'
  | `dataset:${string}`;

export interface Component {
  readonly name: ComponentName;
  /** Present, and not faked missing by REELAB_FAKE_MISSING. */
  readonly available: boolean;
  /** What is missing and how to get it. */
  readonly reason: string;
}

/** True under CI: missing components fail instead of skipping. */
export function isCi(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return ci === 'true' || ci === '1';
}

/** True when REELAB_FAKE_MISSING names `name` (or is `all`). */
export function fakedMissing(name: string): boolean {
  const list = (process.env.REELAB_FAKE_MISSING ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.includes('all') || list.includes(name);
}

export class MissingComponentError extends Error {
  constructor(component: Component) {
    super(
      `CI=true and a component this test needs is missing — ${component.name}: ${component.reason}` +
        (fakedMissing(component.name) && !component.reason.includes('REELAB_FAKE_MISSING')
          ? ' (faked missing by REELAB_FAKE_MISSING)'
          : ''),
    );
    this.name = 'MissingComponentError';
  }
}

const warned = new Set<string>();

/** Says once per test file, on stderr, that tests needing `component` will skip (outside CI). */
function warnOnce(component: Component): void {
  if (warned.has(component.name)) return;
  warned.add(component.name);
  console.warn(`[reelab test] skipping tests that need ${component.name}: ${component.reason}`);
}

/** Describes a component; `available` is what the caller found (REELAB_FAKE_MISSING can still hide it). */
export function component(name: ComponentName, available: boolean, reason: string): Component {
  const present = available && !fakedMissing(name);
  const c: Component = { name, available: present, reason };
  if (!present && !isCi()) warnOnce(c);
  return c;
}

/**
 * Inside a test (or a beforeEach hook): returns when `component` is there; otherwise throws under CI, so the
 * test fails with the reason, and skips the test with the reason as its note elsewhere.
 */
export function requireComponent(ctx: TestContext, component: Component): void {
  if (component.available) return;
  if (isCi()) throw new MissingComponentError(component);
  warnOnce(component);
  ctx.skip(`${component.name} missing: ${component.reason}`);
}

/** Registers a beforeEach in the enclosing describe (or file) that calls requireComponent for every test. */
export function requireComponentForEach(...components: Component[]): void {
  beforeEach((ctx) => {
    for (const c of components) requireComponent(ctx, c);
  });
}

/** Headless Chromium (REELAB_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH). */
export function chromiumComponent(): Component & { executable: string } {
  const explicit = process.env.REELAB_CHROMIUM;
  const reason = explicit
    ? `REELAB_CHROMIUM=${explicit} is not an executable file`
    : 'no chromium / chromium-browser / google-chrome on PATH: run scripts/setup-chromium.sh (or set REELAB_CHROMIUM)';
  if (fakedMissing('chromium')) {
    // The library (saveFigure, renderedDom) and child processes (notebook kernels) must not find it either.
    process.env.REELAB_CHROMIUM = '/nonexistent/chromium-faked-missing';
    const c = component('chromium', false, 'REELAB_FAKE_MISSING=chromium hides the installed browser');
    return { ...c, executable: '' };
  }
  const executable = findChromium();
  const c = component('chromium', executable !== null, reason);
  return { ...c, executable: executable ?? '' };
}
