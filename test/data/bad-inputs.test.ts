import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createZip } from '../../lib/data/zip';
import type { BadInputCall, Outcome } from './bad-input-runner';

/**
 * The bad-input corpus: each case starts from a valid tiny dataset, breaks one thing, and must get a specific
 * DataError naming the file (and the line when there is one) or a ConfigError naming the field. Every case
 * runs in its own worker thread with a time limit, so a hang fails the case instead of stalling the suite.
 */
const fixtures = join(__dirname, '..', 'fixtures', 'data');
const root = mkdtempSync(join(tmpdir(), 'reelab-bad-'));
const runner = join(__dirname, 'bad-input-runner.ts');
const entry = join(__dirname, '..', '..', 'lib', 'compute', 'worker-entry.js');

const HEADER = 'userId,movieId,rating,timestamp\r\n';
const GOOD_ROWS = '1,1,4.0,100\r\n1,2,3.5,200\r\n2,1,2.0,150\r\n';

interface Case {
  name: string;
  /** Writes the broken dataset; returns the call to make. */
  setup: (dir: string) => BadInputCall;
  kind: 'DataError' | 'ConfigError';
  /** File name the error must name (DataError) or field (ConfigError). */
  where: string;
  line?: number | null;
  reason: RegExp;
}

/** A valid CSV release in `<dir>/ml-latest-small/`, with `files` replaced. */
function csvRelease(dir: string, files: Record<string, string | Buffer>): BadInputCall {
  const target = join(dir, 'ml-latest-small');
  cpSync(join(fixtures, 'csv', 'ml-latest-small'), target, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(target, name), body);
  return { action: 'load', dataset: 'ml-latest-small', dataDir: dir };
}

function ml100k(dir: string, files: Record<string, string | Buffer>): BadInputCall {
  const target = join(dir, 'ml-100k');
  cpSync(join(fixtures, 'ml100k', 'ml-100k'), target, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(join(target, name), body);
  return { action: 'load', dataset: 'ml-100k', dataDir: dir };
}

const ratings = (rows: string) => ({ 'ratings.csv': HEADER + rows });
const goodZip = () =>
  createZip(
    ['ratings.csv', 'movies.csv'].map((f) => ({
      name: `ml-latest-small/${f}`,
      data: readFileSync(join(fixtures, 'csv', 'ml-latest-small', f)),
    })),
  );

const cases: Case[] = [
  {
    name: 'too few fields',
    setup: (d) => csvRelease(d, ratings(`${GOOD_ROWS}3,1,4.0\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 5,
    reason: /too few fields/,
  },
  {
    name: 'too many fields',
    setup: (d) => csvRelease(d, ratings(`1,1,4.0,100,9\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /too many fields/,
  },
  {
    name: 'non-numeric rating',
    setup: (d) => csvRelease(d, ratings(`${GOOD_ROWS}3,1,good,100\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 5,
    reason: /rating.*not a valid number: "good"/,
  },
  {
    name: 'rating out of range',
    setup: (d) => csvRelease(d, ratings(`1,1,7.0,100\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /outside the scale 0.5..5/,
  },
  {
    name: 'rating off the half-star scale',
    setup: (d) => csvRelease(d, ratings(`1,1,3.25,100\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /not on the 0.5-step scale/,
  },
  {
    name: 'NaN rating',
    setup: (d) => csvRelease(d, ratings(`1,1,NaN,100\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /not a valid number: "NaN"/,
  },
  {
    name: 'empty file',
    setup: (d) => csvRelease(d, { 'ratings.csv': '' }),
    kind: 'DataError',
    where: 'ratings.csv',
    line: null,
    reason: /file is empty/,
  },
  {
    name: 'header only',
    setup: (d) => csvRelease(d, { 'ratings.csv': HEADER }),
    kind: 'DataError',
    where: 'ratings.csv',
    line: null,
    reason: /no ratings rows/,
  },
  {
    name: 'missing header',
    setup: (d) => csvRelease(d, { 'ratings.csv': GOOD_ROWS }),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 1,
    reason: /missing header line/,
  },
  {
    name: 'wrong header',
    setup: (d) => csvRelease(d, { 'ratings.csv': `user,item,rating,ts\r\n${GOOD_ROWS}` }),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 1,
    reason: /unexpected header "user,item,rating,ts"/,
  },
  {
    name: 'wrong delimiter',
    setup: (d) => csvRelease(d, ratings('1;1;4.0;100\r\n')),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /separated by ";"/,
  },
  {
    name: 'duplicate (user, item) rows',
    setup: (d) => csvRelease(d, ratings(`${GOOD_ROWS}1,2,5.0,300\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 5,
    reason: /duplicate rating of movie 2 by user 1 \(first rated on line 3\)/,
  },
  {
    name: 'negative id',
    setup: (d) => csvRelease(d, ratings('-1,1,4.0,100\r\n')),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /user id.*"-1"/,
  },
  {
    name: 'blank line in the middle',
    setup: (d) => csvRelease(d, ratings(`1,1,4.0,100\r\n\r\n1,2,3.5,200\r\n`)),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 3,
    reason: /empty line in the middle/,
  },
  {
    name: 'timestamp out of range',
    setup: (d) => csvRelease(d, ratings('1,1,4.0,99999999999\r\n')),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /out of the supported range/,
  },
  {
    name: 'binary garbage',
    setup: (d) => csvRelease(d, ratings('1,1,\u0000\u0001\u00ff,100\r\n')),
    kind: 'DataError',
    where: 'ratings.csv',
    line: 2,
    reason: /rating/,
  },
  {
    name: 'Latin-1 bytes in a UTF-8 CSV',
    setup: (d) =>
      csvRelease(d, {
        'movies.csv': Buffer.from(
          'movieId,title,genres\r\n1,Am\xe9lie (2001),Comedy\r\n2,B (1999),Drama\r\n',
          'latin1',
        ),
      }),
    kind: 'DataError',
    where: 'movies.csv',
    line: 2,
    reason: /not valid UTF-8 \(byte 0xe9/,
  },
  {
    name: 'unterminated quote',
    setup: (d) =>
      csvRelease(d, {
        'movies.csv': 'movieId,title,genres\r\n1,A (1995),Drama\r\n2,"Broken, The (1999),Drama\r\n',
      }),
    kind: 'DataError',
    where: 'movies.csv',
    line: 3,
    reason: /unterminated quoted field/,
  },
  {
    name: 'quote inside an unquoted field',
    setup: (d) =>
      csvRelease(d, { 'movies.csv': 'movieId,title,genres\r\n1,A "B" (1995),Drama\r\n2,B (1999),Drama\r\n' }),
    kind: 'DataError',
    where: 'movies.csv',
    line: 2,
    reason: /quote inside an unquoted field/,
  },
  {
    name: 'movies.csv with a missing field',
    setup: (d) =>
      csvRelease(d, { 'movies.csv': 'movieId,title,genres\r\n1,A (1995)\r\n2,B (1999),Drama\r\n' }),
    kind: 'DataError',
    where: 'movies.csv',
    line: 2,
    reason: /expected 3 fields/,
  },
  {
    name: 'rated movie missing from movies.csv',
    setup: (d) => csvRelease(d, { 'movies.csv': 'movieId,title,genres\r\n1,A (1995),Drama\r\n' }),
    kind: 'DataError',
    where: 'movies.csv',
    line: null,
    reason: /movie 2 has ratings but is not in this file/,
  },
  {
    name: 'non-integer tag timestamp',
    setup: (d) => csvRelease(d, { 'tags.csv': 'userId,movieId,tag,timestamp\r\n1,1,fun,soon\r\n' }),
    kind: 'DataError',
    where: 'tags.csv',
    line: 2,
    reason: /timestamp "soon"/,
  },
  {
    name: 'non-numeric imdbId in links.csv',
    setup: (d) => csvRelease(d, { 'links.csv': 'movieId,imdbId,tmdbId\r\n1,tt0114709,862\r\n' }),
    kind: 'DataError',
    where: 'links.csv',
    line: 2,
    reason: /imdbId.*"tt0114709"/,
  },
  {
    name: 'u.data separated by "::"',
    setup: (d) => ml100k(d, { 'u.data': '1::1::4::881250949\n' }),
    kind: 'DataError',
    where: 'u.data',
    line: 1,
    reason: /separated by "::"/,
  },
  {
    name: 'u.item genre flag not 0/1',
    setup: (d) =>
      ml100k(d, {
        'u.item': `1|A (1995)|01-Jan-1995||u|${'0|'.repeat(18)}2\n2|B (1995)|||u|${'0|'.repeat(18)}0\n3|C (1995)|||u|${'0|'.repeat(18)}0\n`,
      }),
    kind: 'DataError',
    where: 'u.item',
    line: 1,
    reason: /genre flag 19 is "2"/,
  },
  {
    name: 'u.user with a bad gender',
    setup: (d) => ml100k(d, { 'u.user': '1|24|X|technician|85711\n' }),
    kind: 'DataError',
    where: 'u.user',
    line: 1,
    reason: /gender "X"/,
  },
  {
    name: 'genome relevance above 1',
    setup: (d) => {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'genome-tags.csv'), 'tagId,tag\n1,a\n');
      writeFileSync(join(d, 'genome-scores.csv'), 'movieId,tagId,relevance\n1,1,0.5\n2,1,1.5\n');
      return { action: 'genome', dataset: 'ml-25m', dataDir: d };
    },
    kind: 'DataError',
    where: 'genome-scores.csv',
    line: 3,
    reason: /relevance 1.5 is outside 0..1/,
  },
  {
    name: 'unknown dataset name',
    setup: (d) => ({ action: 'load', dataset: 'ml-7m', dataDir: d }),
    kind: 'ConfigError',
    where: 'dataset',
    reason: /unknown dataset "ml-7m"/,
  },
  {
    name: 'missing data directory',
    setup: (d) => ({ action: 'load', dataset: 'ml-100k', dataDir: join(d, 'nowhere') }),
    kind: 'ConfigError',
    where: 'data dir',
    reason: /nowhere does not exist/,
  },
  {
    name: 'dataset folder missing',
    setup: (d) => {
      mkdirSync(d, { recursive: true });
      return { action: 'load', dataset: 'ml-1m', dataDir: d };
    },
    kind: 'DataError',
    where: 'ratings.dat',
    line: null,
    reason: /reelab data fetch ml-1m/,
  },
  {
    name: 'truncated archive',
    setup: (d) => {
      mkdirSync(d, { recursive: true });
      const zip = join(d, 'cut.zip');
      const z = goodZip();
      writeFileSync(zip, z.subarray(0, z.length - 30));
      return { action: 'fetch', dataset: 'ml-latest-small', dataDir: join(d, 'data'), archive: zip };
    },
    kind: 'DataError',
    where: 'cut.zip',
    line: null,
    reason: /corrupt or truncated zip archive/,
  },
  {
    name: 'sha256 mismatch',
    setup: (d) => {
      mkdirSync(d, { recursive: true });
      const zip = join(d, 'a.zip');
      writeFileSync(zip, goodZip());
      return {
        action: 'fetch',
        dataset: 'ml-latest-small',
        dataDir: join(d, 'data'),
        archive: zip,
        sha256: '0'.repeat(64),
      };
    },
    kind: 'DataError',
    where: 'a.zip',
    line: null,
    reason: /sha256 mismatch: expected 0{64}, got [0-9a-f]{64}/,
  },
];

function runInWorker(call: BadInputCall, timeoutMs: number): Promise<Outcome | 'timeout'> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry);
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve('timeout');
    }, timeoutMs);
    worker.on('message', (msg: { ok: boolean; result?: Outcome; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (msg.ok) resolve(msg.result!);
      else reject(new Error(msg.error));
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.postMessage({ id: 1, module: runner, fn: 'run', payload: call });
  });
}

describe('bad-input corpus', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))(
    '%s → a specific error, no crash, no hang',
    async (_name, i) => {
      const c = cases[i]!;
      const dir = join(root, `case-${i}`);
      const outcome = await runInWorker(c.setup(dir), 20_000);
      expect(outcome).not.toBe('timeout');
      const o = outcome as Outcome;
      expect(o.ok).toBe(false);
      expect({ kind: o.kind, message: o.message }).toEqual({
        kind: c.kind,
        message: expect.stringMatching(c.reason),
      });
      if (c.kind === 'DataError') {
        expect(o.file!.endsWith(c.where)).toBe(true);
        expect(o.line).toBe(c.line);
        expect(o.message).toContain(c.line ? `${c.where}:${c.line}:` : c.where);
      } else {
        expect(o.field).toBe(c.where);
      }
    },
  );
});
