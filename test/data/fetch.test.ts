import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchDataset } from '../../lib/data/fetch';
import { loadDataset } from '../../lib/data/load';
import { createZip, extractZip, listZip } from '../../lib/data/zip';
import { ConfigError, DataError } from '../../lib/util/errors';

const fixture = join(__dirname, '..', 'fixtures', 'data', 'csv', 'ml-latest-small');
const files = readdirSync(fixture).map((f) => ({
  name: `ml-latest-small/${f}`,
  data: readFileSync(join(fixture, f)),
}));
const good = createZip(
  [{ name: 'ml-latest-small/', data: '' }, ...files].filter((f) => f.name.endsWith('.csv')),
);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const truncated = good.subarray(0, Math.floor(good.length * 0.6));
// Same length, one flipped byte inside the first member's compressed data.
const flipped = Buffer.from(good);
const firstData = 30 + Buffer.byteLength(files[0]!.name) + 3;
flipped[firstData] = flipped[firstData]! ^ 0xff;

let server: Server;
let base: string;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const body =
      req.url === '/good.zip'
        ? good
        : req.url === '/flipped.zip'
          ? flipped
          : req.url === '/short.zip'
            ? truncated
            : null;
    if (req.url === '/redirect.zip') {
      res.writeHead(302, { location: '/good.zip' }).end();
      return;
    }
    if (req.url === '/cut.zip') {
      // Announces the full length, then the connection drops half way: a truncated transfer.
      res.writeHead(200, { 'content-length': String(good.length) });
      res.write(good.subarray(0, 100), () => res.destroy());
      return;
    }
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'reelab-fetch-'));
}

const spec = (url: string, sha256: string | null = sha(good), bytes: number | null = good.length) => ({
  url: `${base}${url}`,
  archiveSha256: sha256,
  archiveBytes: bytes,
  archiveMd5: null,
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('reelab data fetch (local HTTP server)', () => {
  it('downloads, verifies sha256 and CRC-32, unpacks, and the result loads', async () => {
    const dataDir = freshDir();
    const progress: number[] = [];
    const r = await fetchDataset('ml-latest-small', {
      dataDir,
      spec: spec('/good.zip'),
      onProgress: (received) => progress.push(received),
    });
    expect(r.downloaded).toBe(true);
    expect(r.sha256).toBe(sha(good));
    expect(r.verified).toEqual(['size', 'sha256', 'zip CRC-32']);
    expect(r.files.sort()).toEqual(['links.csv', 'movies.csv', 'ratings.csv', 'tags.csv']);
    expect(progress[progress.length - 1]).toBe(good.length);
    expect(readFileSync(join(dataDir, 'ml-latest-small', 'movies.csv'))).toEqual(
      readFileSync(join(fixture, 'movies.csv')),
    );
    expect(loadDataset('ml-latest-small', { dataDir }).ratings.size).toBe(9);
    // Only the dataset folder is left behind: no partial archive, no staging folder.
    expect(readdirSync(dataDir)).toEqual(['ml-latest-small']);

    const before = hits.length;
    const again = await fetchDataset('ml-latest-small', { dataDir, spec: spec('/good.zip') });
    expect(again.downloaded).toBe(false);
    expect(hits.length).toBe(before);
  });

  it('follows a redirect', async () => {
    const r = await fetchDataset('ml-latest-small', { dataDir: freshDir(), spec: spec('/redirect.zip') });
    expect(r.downloaded).toBe(true);
  });

  it.each([
    ['a sha256 mismatch', '/good.zip', 'f'.repeat(64), null, /sha256 mismatch/],
    ['a truncated archive (size check)', '/short.zip', null, good.length, /truncated download/],
    ['a truncated archive (no size or sha known)', '/short.zip', null, null, /corrupt or truncated zip/],
    [
      'a corrupted member (same size, no sha known)',
      '/flipped.zip',
      null,
      good.length,
      /corrupt zip archive/,
    ],
    ['a connection dropped mid-transfer', '/cut.zip', null, null, /download (truncated|interrupted)/],
    ['HTTP 404', '/missing.zip', null, null, /HTTP 404/],
  ] as const)('refuses %s and leaves no dataset folder', async (_label, url, sha256, bytes, message) => {
    const dataDir = freshDir();
    const err = await failure(fetchDataset('ml-latest-small', { dataDir, spec: spec(url, sha256, bytes) }));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(message);
    expect(existsSync(join(dataDir, 'ml-latest-small'))).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('verifies a local --archive the same way', async () => {
    const dir = freshDir();
    const zip = join(dir, 'x.zip');
    writeFileSync(zip, flipped);
    const dataDir = join(dir, 'data');
    const err = await failure(
      fetchDataset('ml-latest-small', {
        dataDir,
        archive: zip,
        spec: { archiveSha256: sha(good), archiveBytes: null },
      }),
    );
    expect(err.message).toMatch(/sha256 mismatch/);
    writeFileSync(zip, good);
    const r = await fetchDataset('ml-latest-small', {
      dataDir,
      archive: zip,
      spec: { archiveSha256: sha(good), archiveBytes: good.length },
    });
    expect(r.files.length).toBe(4);
  });

  it('unpacks a release whose archive folder has another name (ml-10m → ml-10M100K/) into <dataDir>/ml-10m', async () => {
    const dir = freshDir();
    const src = join(__dirname, '..', 'fixtures', 'data', 'ml10m', 'ml-10m');
    const zip = join(dir, 'ml-10m.zip');
    const body = createZip(
      readdirSync(src).map((f) => ({ name: `ml-10M100K/${f}`, data: readFileSync(join(src, f)) })),
    );
    writeFileSync(zip, body);
    const dataDir = join(dir, 'data');
    const r = await fetchDataset('ml-10m', { dataDir, archive: zip, spec: { archiveMd5: null } });
    expect(r.files.sort()).toEqual(['movies.dat', 'ratings.dat', 'tags.dat']);
    expect(loadDataset('ml-10m', { dataDir }).tags?.size).toBe(2);
    const md5 = createHash('md5').update(body).digest('hex');
    const dataDir2 = join(dir, 'data2');
    const ok = await fetchDataset('ml-10m', { dataDir: dataDir2, archive: zip, spec: { archiveMd5: md5 } });
    expect(ok.verified).toEqual(['md5', 'zip CRC-32']);
    const bad = await failure(fetchDataset('ml-10m', { dataDir: join(dir, 'data3'), archive: zip }));
    expect(bad.message).toMatch(/md5 mismatch: expected ce571fd55effeba0271552578f2648bd/);
  });

  it('refuses an unknown dataset and a half-present folder', async () => {
    await expect(fetchDataset('ml-7m', { dataDir: freshDir() })).rejects.toBeInstanceOf(ConfigError);
    const dataDir = freshDir();
    mkdirSync(join(dataDir, 'ml-latest-small'));
    writeFileSync(join(dataDir, 'ml-latest-small', 'ratings.csv'), 'userId,movieId,rating,timestamp\n');
    const err = await failure(fetchDataset('ml-latest-small', { dataDir, spec: spec('/good.zip') }));
    expect(err.message).toMatch(/lacks ratings.csv \/ movies.csv/);
  });
});

describe('zip reader', () => {
  it('lists members with sizes and CRCs and refuses names escaping the target', async () => {
    const entries = listZip(writeTemp(good));
    expect(entries.map((e) => e.name).sort()).toEqual(files.map((f) => f.name).sort());
    const evil = writeTemp(createZip([{ name: '../evil.txt', data: 'x' }]));
    const dest = freshDir();
    await expect(extractZip(evil, dest)).rejects.toThrow(/outside the target folder/);
    rmSync(dest, { recursive: true, force: true });
  });
});

function writeTemp(b: Buffer): string {
  const f = join(freshDir(), 'a.zip');
  writeFileSync(f, b);
  return f;
}
