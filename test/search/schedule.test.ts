import { describe, expect, it } from 'vitest';
import { listStrategy, type Strategy, schedule, WAIT } from '../../lib/search/schedule';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A run function that records concurrency and which slot ran what, finishing after `delay(job)` ms. */
function recorder(delay: (job: number) => number) {
  let running = 0;
  const state = {
    maxRunning: 0,
    busySlots: new Set<number>(),
    slotClash: false,
    slotsSeen: new Set<number>(),
    started: [] as number[],
    finished: [] as number[],
  };
  const run = async (job: number, slot: number): Promise<string> => {
    if (state.busySlots.has(slot)) state.slotClash = true;
    state.busySlots.add(slot);
    state.slotsSeen.add(slot);
    state.started.push(job);
    running++;
    state.maxRunning = Math.max(state.maxRunning, running);
    await sleep(delay(job));
    running--;
    state.busySlots.delete(slot);
    state.finished.push(job);
    return `r${job}`;
  };
  return { run, state };
}

describe('schedule (no MLflow, no models)', () => {
  it('returns results in plan order whatever order the jobs finish in', async () => {
    const jobs = [0, 1, 2, 3, 4, 5, 6, 7];
    // early jobs are the slow ones, so they finish last
    const { run, state } = recorder((j) => (8 - j) * 5);
    const out = await schedule(listStrategy<number, string>(jobs), run, { slots: 3 });
    expect(out.jobs).toEqual(jobs);
    expect(out.results).toEqual(jobs.map((j) => `r${j}`));
    expect(out.stopped).toBe(false);
    expect(state.started).toEqual(jobs);
    expect(state.finished).not.toEqual(jobs);
  });

  it('never runs more jobs at once than slots, and one job per slot at a time', async () => {
    for (const slots of [1, 2, 4]) {
      const { run, state } = recorder((j) => 3 + (j % 3) * 4);
      await schedule(listStrategy<number, string>(Array.from({ length: 10 }, (_, i) => i)), run, { slots });
      expect(state.maxRunning).toBe(slots);
      expect(state.slotClash).toBe(false);
      expect([...state.slotsSeen].sort()).toEqual(Array.from({ length: slots }, (_, i) => i));
    }
  });

  it('more slots than jobs: each job runs once, the extra slots stay idle', async () => {
    const { run, state } = recorder(() => 2);
    const out = await schedule(listStrategy<number, string>([0, 1]), run, { slots: 5 });
    expect(out.results).toEqual(['r0', 'r1']);
    expect(state.started).toEqual([0, 1]);
    expect(state.maxRunning).toBe(2);
  });

  it('honours the stop condition: nothing new starts, running jobs finish', async () => {
    const { run, state } = recorder(() => 5);
    let stop = false;
    const out = await schedule(
      listStrategy<number, string>(Array.from({ length: 20 }, (_, i) => i)),
      async (job, slot) => {
        const r = await run(job, slot);
        if (job === 3) stop = true;
        return r;
      },
      { slots: 2, stop: () => stop },
    );
    expect(out.stopped).toBe(true);
    // job 3 ran alongside job 2 (or 4): at most one more job had started when the stop came
    expect(out.jobs.length).toBeGreaterThanOrEqual(4);
    expect(out.jobs.length).toBeLessThanOrEqual(5);
    expect(out.jobs).toEqual(Array.from({ length: out.jobs.length }, (_, i) => i));
    // everything started also finished, and has its result
    expect(state.finished.sort((a, b) => a - b)).toEqual(out.jobs);
    expect(out.results).toEqual(out.jobs.map((j) => `r${j}`));
  });

  it('a stop condition already true starts nothing', async () => {
    const { run, state } = recorder(() => 1);
    const out = await schedule(listStrategy<number, string>([0, 1, 2]), run, { slots: 2, stop: () => true });
    expect(out).toEqual({ jobs: [], results: [], stopped: true });
    expect(state.started).toEqual([]);
  });

  it('an adaptive strategy: WAIT until results arrive, next rung proposed from them', async () => {
    // two rungs: four jobs, then the two best of them again with a bigger budget (successive-halving-shaped)
    const reported: Array<[string, number]> = [];
    const rung0 = ['a', 'b', 'c', 'd'];
    const score: Record<string, number> = { a: 3, b: 1, c: 4, d: 2 };
    let queue = [...rung0];
    let promoted = false;
    const strategy: Strategy<string, number> = {
      next() {
        if (queue.length > 0) return queue.shift()!;
        if (!promoted) {
          if (reported.length < rung0.length) return WAIT;
          promoted = true;
          queue = [...reported]
            .sort((x, y) => y[1] - x[1])
            .slice(0, 2)
            .map(([job]) => `${job}+`);
          return queue.shift()!;
        }
        return null;
      },
      report(job, result) {
        reported.push([job, result]);
      },
    };
    const out = await schedule(
      strategy,
      async (job) => {
        await sleep(job === 'a' ? 20 : 2);
        return score[job.replace('+', '')]! * (job.endsWith('+') ? 10 : 1);
      },
      { slots: 3 },
    );
    expect(out.jobs).toEqual(['a', 'b', 'c', 'd', 'c+', 'a+']);
    expect(out.results).toEqual([3, 1, 4, 2, 40, 30]);
    expect(reported).toHaveLength(6);
  });

  it('a strategy that waits while nothing runs is finished (no hang)', async () => {
    const out = await schedule<number, number>({ next: () => WAIT }, async () => 0, { slots: 2 });
    expect(out).toEqual({ jobs: [], results: [], stopped: false });
  });

  it('rejects with the error a job throws, and rejects bad slot counts', async () => {
    await expect(
      schedule(
        listStrategy<number, number>([0, 1, 2]),
        async (j) => {
          if (j === 1) throw new Error('boom');
          return j;
        },
        { slots: 1 },
      ),
    ).rejects.toThrow('boom');
    for (const slots of [0, -1, 1.5, Number.NaN])
      await expect(schedule(listStrategy([1]), async () => 1, { slots })).rejects.toThrow(RangeError);
  });
});
