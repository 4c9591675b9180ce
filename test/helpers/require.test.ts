import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { component, isCi, MissingComponentError, requireComponent } from './require';

const saved = { CI: process.env.CI, FAKE: process.env.REELAB_FAKE_MISSING };
afterEach(() => {
  for (const [key, value] of [
    ['CI', saved.CI],
    ['REELAB_FAKE_MISSING', saved.FAKE],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** A stand-in test context whose skip() records its note and stops, as vitest's does. */
function fakeContext(): { ctx: TestContext; notes: string[] } {
  const notes: string[] = [];
  const skip = (note?: string) => {
    notes.push(note ?? '');
    throw new Error('skipped');
  };
  return { ctx: { skip } as unknown as TestContext, notes };
}

describe('requireComponent', () => {
  it('returns quietly when the component is there', () => {
    const { ctx, notes } = fakeContext();
    process.env.CI = 'true';
    expect(() => requireComponent(ctx, component('postgres', true, 'unused'))).not.toThrow();
    expect(notes).toEqual([]);
  });

  it('fails under CI=true with the component and the reason, and never skips', () => {
    const { ctx, notes } = fakeContext();
    process.env.CI = 'true';
    expect(isCi()).toBe(true);
    const missing = component('postgres', false, 'initdb not found: run scripts/setup-postgres.sh');
    expect(() => requireComponent(ctx, missing)).toThrow(MissingComponentError);
    expect(() => requireComponent(ctx, missing)).toThrow(
      /CI=true .* postgres: initdb not found: run scripts\/setup-postgres\.sh/,
    );
    expect(notes).toEqual([]);
  });

  it('skips outside CI with the reason as the note', () => {
    const { ctx, notes } = fakeContext();
    delete process.env.CI;
    expect(isCi()).toBe(false);
    expect(() => requireComponent(ctx, component('chromium', false, 'no browser on PATH'))).toThrow(
      'skipped',
    );
    expect(notes).toEqual(['chromium missing: no browser on PATH']);
  });

  it('REELAB_FAKE_MISSING hides a present component (a comma list, or all)', () => {
    process.env.REELAB_FAKE_MISSING = 'tslab, chromium';
    expect(component('chromium', true, 'r').available).toBe(false);
    expect(component('tslab', true, 'r').available).toBe(false);
    expect(component('postgres', true, 'r').available).toBe(true);
    process.env.REELAB_FAKE_MISSING = 'all';
    expect(component('postgres', true, 'r').available).toBe(false);
    process.env.CI = 'true';
    const { ctx } = fakeContext();
    expect(() => requireComponent(ctx, component('postgres', true, 'r'))).toThrow(
      /faked missing by REELAB_FAKE_MISSING/,
    );
  });
});
