import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReelabError } from '../util/errors';
import type { ModelState, ModelStateValue, Recommender } from './recommender';
import { createModel } from './registry';

const FORMAT = 'reelab-model/1';

interface Manifest {
  format: string;
  name: string;
  params: Record<string, unknown>;
  scalars: Record<string, number | string | boolean | null | number[] | string[]>;
  arrays: Record<string, { file: string; type: 'f32' | 'f64' | 'i32'; length: number }>;
  meta?: Record<string, unknown>;
}

/**
 * Writes a fitted model to `dir`: model.json (name, params, scalars) plus one little-endian binary file per
 * typed array, so a reload is bit-identical. `meta` (dataset, metrics, run id…) is stored alongside.
 */
export async function saveModel(
  model: Recommender,
  dir: string,
  meta?: Record<string, unknown>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const state = model.state();
  const manifest: Manifest = {
    format: FORMAT,
    name: model.name,
    params: { ...model.params },
    scalars: {},
    arrays: {},
    meta,
  };
  for (const [key, value] of Object.entries(state)) {
    if (ArrayBuffer.isView(value)) {
      const type = value instanceof Float32Array ? 'f32' : value instanceof Float64Array ? 'f64' : 'i32';
      const file = `${key.replace(/[^A-Za-z0-9_.-]/g, '_')}.${type}`;
      await writeFile(join(dir, file), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      manifest.arrays[key] = { file, type, length: value.length };
    } else {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new ReelabError(`cannot save ${model.name}: state "${key}" is ${value}`);
      }
      manifest.scalars[key] = value;
    }
  }
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Loads a model saved by `saveModel`. */
export async function loadModel(dir: string): Promise<{ model: Recommender; meta: Record<string, unknown> }> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new ReelabError(`${join(dir, 'model.json')}: not a saved reelab model (${(err as Error).message})`);
  }
  if (manifest.format !== FORMAT)
    throw new ReelabError(`${dir}: unsupported model format ${manifest.format}`);
  const state: ModelState = {};
  for (const [key, value] of Object.entries(manifest.scalars)) state[key] = value as ModelStateValue;
  for (const [key, { file, type, length }] of Object.entries(manifest.arrays)) {
    const bytes = await readFile(join(dir, file));
    const width = type === 'f64' ? 8 : 4;
    if (bytes.length !== length * width) {
      throw new ReelabError(
        `${join(dir, file)}: expected ${length * width} bytes, found ${bytes.length} (truncated?)`,
      );
    }
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    state[key] =
      type === 'f32'
        ? new Float32Array(copy)
        : type === 'f64'
          ? new Float64Array(copy)
          : new Int32Array(copy);
  }
  const model = createModel(manifest.name, manifest.params);
  model.restore(state);
  return { model, meta: manifest.meta ?? {} };
}
