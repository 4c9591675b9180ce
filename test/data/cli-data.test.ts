import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createZip } from '../../lib/data/zip';

const bin = join(__dirname, '..', '..', 'bin', 'reelab.js');
const fixtures = join(__dirname, '..', 'fixtures', 'data');

function reelab(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function fixtureZip(): Buffer {
  return createZip(
    ['ratings.csv', 'movies.csv'].map((f) => ({
      name: `ml-latest-small/${f}`,
      data: readFileSync(join(fixtures, 'csv', 'ml-latest-small', f)),
    })),
  );
}

describe('reelab data (CLI)', () => {
  it('describe --json prints one object with tag counts', async () => {
    const r = await reelab([
      'data',
      'describe',
      '--dataset',
      'ml-latest-small',
      '--data-dir',
      join(fixtures, 'csv'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect([out.users, out.items, out.ratings, out.catalogueMovies, out.tags]).toEqual([3, 4, 9, 5, 6]);
  });

  it('describe names an unknown dataset and exits non-zero', async () => {
    const r = await reelab(['data', 'describe', '--dataset', 'ml-2m', '--data-dir', fixtures]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown dataset "ml-2m"/);
  });

  it("fetch refuses an archive that is not the catalogue's (real sha256) and leaves nothing behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reelab-cli-'));
    const zipFile = join(dir, 'ml-latest-small.zip');
    writeFileSync(zipFile, fixtureZip());
    const dataDir = join(dir, 'data');
    const refused = await reelab([
      'data',
      'fetch',
      'ml-latest-small',
      '--data-dir',
      dataDir,
      '--archive',
      zipFile,
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/archive is \d+ bytes, expected 978202/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('fetch shows a progress bar on stderr and one JSON object on stdout', async () => {
    const body = fixtureZip();
    const sha = createHash('sha256').update(body).digest('hex');
    const server = createServer((_req, res) =>
      res.writeHead(200, { 'content-length': body.length }).end(body),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const dataDir = mkdtempSync(join(tmpdir(), 'reelab-cli-'));
      const url = `http://127.0.0.1:${port}/ml-latest-small.zip`;
      const args = ['data', 'fetch', 'ml-latest-small', '--data-dir', dataDir, '--url', url];
      const r = await reelab([...args, '--sha256', sha, '--json']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/fetching ml-latest-small .*100%/);
      const out = JSON.parse(r.stdout);
      expect(out.downloaded).toBe(true);
      expect(out.files.sort()).toEqual(['movies.csv', 'ratings.csv']);
      expect(out.verified).toEqual(['sha256', 'zip CRC-32']);
      const again = await reelab([...args, '--sha256', sha]);
      expect(again.stdout).toMatch(/already present/);
      const wrong = await reelab([
        ...args.slice(0, 3),
        '--data-dir',
        `${dataDir}-2`,
        '--url',
        url,
        '--sha256',
        '0'.repeat(64),
      ]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/sha256 mismatch/);
    } finally {
      server.close();
    }
  });
});
