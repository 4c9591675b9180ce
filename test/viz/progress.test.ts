import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatProgressLine,
  type ProgressSnapshot,
  progress,
  progressBundle,
} from '../../lib/util/progress';
import type { MimeBundle } from '../../lib/viz/display';

/** A controllable clock and a sink that records what a bar writes. */
function harness(isTTY: boolean) {
  let now = 0;
  const writes: string[] = [];
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    stream: { isTTY, columns: 100, write: (s: string) => writes.push(s) },
    writes,
  };
}

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  label: 'fit',
  unit: 'epochs',
  count: 45,
  total: 100,
  elapsedMs: 12_000,
  etaMs: 14_700,
  detail: 'best 0.912',
  finished: false,
  ...over,
});

describe('formatting', () => {
  it('durations', () => {
    expect(formatDuration(4200)).toBe('4.2s');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(Number.NaN)).toBe('?');
  });

  it('a line with bar, percentage, counts, time, ETA and detail', () => {
    expect(formatProgressLine(snap(), 0)).toBe(
      'fit [#########-----------]  45% 45/100 epochs · 0:12, ETA 0:15 · best 0.912',
    );
    expect(formatProgressLine(snap({ count: 100, finished: true, etaMs: null }), 0)).toBe(
      'fit [####################] 100% 100/100 epochs · 0:12 · best 0.912 ✓',
    );
    // unknown total: a rate instead of a percentage
    expect(formatProgressLine(snap({ total: null, etaMs: null, detail: '' }), 0)).toBe(
      'fit 45 epochs · 0:12 · 3.8/s',
    );
    // a width limit shrinks the bar, then cuts the line
    expect(formatProgressLine(snap(), 60).length).toBeLessThanOrEqual(60);
  });

  it('the notebook bundle: HTML bar without scripts, plus the text line', () => {
    const b = progressBundle(snap({ label: '<b>x</b>' }));
    const html = String(b['text/html']);
    expect(html).toContain('class="reelab-progress"');
    expect(html).toContain('data-count="45"');
    expect(html).toContain('width:45.0%');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<script');
    expect(b['text/plain']).toContain('45/100 epochs');
  });
});

describe('terminal rendering', () => {
  it('on a TTY redraws one line in place, at most 5 times a second, and ends with a newline', () => {
    const h = harness(true);
    const bar = progress({ total: 1000, label: 'work', stream: h.stream, clock: h.clock });
    for (let i = 0; i < 1000; i++) {
      h.advance(1); // 1000 ticks over one second
      bar.tick();
    }
    bar.done('ok');
    // first draw + one per 200 ms + the final one
    expect(h.writes.length).toBeGreaterThanOrEqual(5);
    expect(h.writes.length).toBeLessThanOrEqual(7);
    expect(h.writes.every((w) => w.startsWith('\r'))).toBe(true);
    expect(h.writes.slice(0, -1).every((w) => !w.includes('\n'))).toBe(true);
    const last = h.writes[h.writes.length - 1]!;
    expect(last).toMatch(/100% 1000\/1000 · 1\.0s · ok ✓ *\n$/);
  });

  it('without a TTY prints a line per 10 % step, never one per tick', () => {
    const h = harness(false);
    const bar = progress({ total: 10_000, label: 'work', unit: 'items', stream: h.stream, clock: h.clock });
    for (let i = 0; i < 10_000; i++) {
      h.advance(1);
      bar.tick(1, `at ${i}`);
    }
    bar.done();
    const lines = h.writes.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(11); // start, 10 %, …, 90 %, done
    expect(lines[0]).toContain('0/10000 items');
    expect(lines[5]).toContain(' 50% 5000/10000 items');
    expect(lines[10]).toContain('100% 10000/10000 items');
    expect(h.writes.every((w) => !w.includes('\r'))).toBe(true);
  });

  it('ignores ticks after done and rejects a bad total', () => {
    const h = harness(false);
    const bar = progress({ total: 2, label: 'w', stream: h.stream, clock: h.clock });
    bar.done();
    const n = h.writes.length;
    bar.tick();
    bar.done();
    expect(h.writes.length).toBe(n);
    expect(() => progress({ total: -1, label: 'w', stream: h.stream })).toThrow(/non-negative/);
  });

  it('a real process with stderr piped prints a handful of lines for 5000 ticks', () => {
    const script = join(__dirname, 'progress-cli.ts');
    const out = spawnSync(process.execPath, ['--import', 'tsx', script, '5000'], {
      encoding: 'utf8',
      cwd: join(__dirname, '..', '..'),
    });
    expect(out.status).toBe(0);
    const lines = out.stderr.split('\n').filter((l) => l.startsWith('cli work'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines[lines.length - 1]).toContain('100% 5000/5000 steps');
    expect(out.stdout.trim()).toBe('done 5000');
  });
});

describe('notebook rendering', () => {
  it('one display, then in-place updates of the same display id, throttled', () => {
    const h = harness(false);
    const shown: Array<{ bundle: MimeBundle; id: string; update: boolean }> = [];
    const bar = progress({
      total: 500,
      label: 'UMAP layout',
      unit: 'epochs',
      output: 'notebook',
      clock: h.clock,
      display: (bundle, id, update) => {
        shown.push({ bundle, id, update });
        return true;
      },
    });
    for (let e = 0; e < 500; e++) {
      h.advance(10); // 5 s in all
      bar.set(e + 1);
    }
    bar.done();
    expect(shown[0]!.update).toBe(false);
    expect(shown.slice(1).every((s) => s.update)).toBe(true);
    expect(new Set(shown.map((s) => s.id)).size).toBe(1);
    expect(shown.length).toBeLessThanOrEqual(5 * 5 + 2);
    const final = String(shown[shown.length - 1]!.bundle['text/html']);
    expect(final).toContain('data-finished="true"');
    expect(final).toContain('data-count="500"');
    expect(h.writes).toHaveLength(0);
  });

  it("'auto' outside a notebook goes to the terminal", () => {
    const h = harness(false);
    const bar = progress({ total: 1, label: 'auto', clock: h.clock, stream: h.stream });
    bar.done();
    expect(h.writes.join('')).toContain('auto');
  });
});
