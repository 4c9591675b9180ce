import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import { describe, expect, it } from 'vitest';
import { listLocalFiles, RunArtifacts } from '../../lib/tracking/artifacts';
import { MlflowClient } from '../../lib/tracking/mlflow-client';
import { withRun } from '../../lib/tracking/run';
import { ConfigError } from '../../lib/util/errors';
import { useMlflowServer, useTempDir } from '../helpers/mlflow';

const server = useMlflowServer();
const tmp = useTempDir('reelab-artifacts-');

/** Deterministic bytes covering every byte value (no randomness needed to be "binary"). */
function binary(size: number, salt: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff;
  return out;
}

async function newRun(
  name: string,
): Promise<{ client: MlflowClient; artifacts: RunArtifacts; root: string }> {
  const client = new MlflowClient({ trackingUri: server().url, outboxDir: false });
  const experimentId = await client.getOrCreateExperiment('artifacts');
  const run = await client.createRun({ experimentId, runName: name });
  const uri = run.info.artifact_uri!;
  return { client, artifacts: new RunArtifacts(client, uri), root: uri.replace('mlflow-artifacts:/', '') };
}

describe('artifacts through the proxy', () => {
  it('round-trips a binary file byte for byte, checked through raw HTTP', async () => {
    const { artifacts, root } = await newRun('file');
    const local = join(tmp(), 'state.bin');
    const bytes = binary(300_001, 1);
    writeFileSync(local, bytes);
    await artifacts.uploadFile(local, 'model/state.bin');
    const raw = await axios.get(
      `${server().url}/api/2.0/mlflow-artifacts/artifacts/${root}/model/state.bin`,
      {
        responseType: 'arraybuffer',
      },
    );
    expect(Buffer.from(raw.data).equals(bytes)).toBe(true);
    expect((await artifacts.read('model/state.bin')).equals(bytes)).toBe(true);
    const back = join(tmp(), 'back', 'state.bin');
    await artifacts.downloadFile('model/state.bin', back);
    expect(readFileSync(back).equals(bytes)).toBe(true);
    expect(await artifacts.list()).toEqual([{ path: 'model', isDir: true, fileSize: undefined }]);
    expect(await artifacts.list('model')).toEqual([
      { path: 'model/state.bin', isDir: false, fileSize: 300_001 },
    ]);
  });

  it('round-trips a whole directory (nested folders, empty file, odd names)', async () => {
    const { artifacts } = await newRun('dir');
    const src = join(tmp(), 'report');
    mkdirSync(join(src, 'figures', 'deep'), { recursive: true });
    const files: Record<string, Buffer> = {
      'index.html': Buffer.from('<h1>report ✓</h1>\n'),
      'table.csv': Buffer.from('model,rmse\nsvd,0.93\n'),
      'empty.txt': Buffer.alloc(0),
      'figures/curve.png': binary(70_000, 2),
      'figures/deep/with space & percent%.bin': binary(4096, 3),
    };
    for (const [rel, data] of Object.entries(files)) writeFileSync(join(src, ...rel.split('/')), data);
    const written = await artifacts.uploadDir(src, 'report');
    expect(written.sort()).toEqual(
      Object.keys(files)
        .map((f) => `report/${f}`)
        .sort(),
    );

    const listed = await artifacts.listFiles('report');
    expect(listed.map((f) => [f.path, f.fileSize ?? 0]).sort()).toEqual(
      Object.entries(files)
        .map(([rel, data]) => [`report/${rel}`, data.length])
        .sort(),
    );
    const dest = join(tmp(), 'report-back');
    await artifacts.downloadDir(dest, 'report');
    expect(listLocalFiles(dest).sort()).toEqual(Object.keys(files).sort());
    for (const [rel, data] of Object.entries(files)) {
      const got = readFileSync(join(dest, ...rel.split('/')));
      expect(createHash('sha256').update(got).digest('hex')).toBe(
        createHash('sha256').update(data).digest('hex'),
      );
    }
  });

  it('uploads through a run context (file, folder and text)', async () => {
    const client = new MlflowClient({ trackingUri: server().url, outboxDir: false });
    const src = join(tmp(), 'ctx');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.bin'), binary(1000, 4));
    writeFileSync(join(src, 'sub', 'b.txt'), 'b');
    const runId = await withRun(
      client,
      { experiment: 'artifacts', runName: 'ctx', source: 'test' },
      async (run) => {
        await run.logArtifact(join(src, 'a.bin'));
        await run.logArtifacts(src, 'copy');
        await run.logText('# Report\n', 'report.md');
        return run.runId!;
      },
    );
    const root = (await client.getRun(runId)).info.artifact_uri!;
    const store = new RunArtifacts(client, root);
    expect((await store.listFiles()).map((f) => f.path).sort()).toEqual([
      'a.bin',
      'copy/a.bin',
      'copy/sub/b.txt',
      'report.md',
    ]);
    expect((await store.read('copy/a.bin')).equals(binary(1000, 4))).toBe(true);
    expect((await store.read('report.md')).toString('utf8')).toBe('# Report\n');
  });

  it('rejects paths that could escape the run root before any request', async () => {
    const { artifacts } = await newRun('escape');
    const local = join(tmp(), 'x.txt');
    writeFileSync(local, 'x');
    for (const bad of ['../x', '/abs', '', 'a/../../b', 'a\\..\\b', 'a\u0000b']) {
      const err = await artifacts.uploadFile(local, bad).catch((e) => e);
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(/artifact path/);
      await expect(artifacts.read(bad)).rejects.toThrow(ConfigError);
      await expect(artifacts.downloadFile(bad, join(tmp(), 'never'))).rejects.toThrow(ConfigError);
    }
    // Nothing was written anywhere in this run.
    expect(await artifacts.list()).toEqual([]);
    await expect(artifacts.read('missing.txt')).rejects.toThrow(/no artifact "missing.txt"/);
  });
});
