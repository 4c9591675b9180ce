import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ConfigError, DataError, errorMessage } from '../util/errors';
import { resolveDataDir } from './data-dir';
import { IMDB_BASE_URL, IMDB_DUMP_NAMES, IMDB_DUMPS, IMDB_TERMS, type ImdbDump } from './imdb';
import {
  isMovieLensName,
  MOVIELENS,
  MOVIELENS_NAMES,
  type MovieLensName,
  type MovieLensSpec,
} from './movielens';
import { extractZip } from './zip';

export interface FetchOptions {
  dataDir?: string;
  /** Override parts of the catalogue entry (tests serve their own archive; mirrors). */
  spec?: Partial<
    Pick<MovieLensSpec, 'url' | 'archiveSha256' | 'archiveBytes' | 'archiveMd5' | 'archiveFolder'>
  >;
  /** Use this local archive instead of downloading (it is verified the same way). */
  archive?: string;
  /** Keep the verified archive as `<dataDir>/<name>.zip`. */
  keepArchive?: boolean;
  /** Called as bytes arrive; `total` is null when the server sends no length. */
  onProgress?: (received: number, total: number | null) => void;
  /** Per-request inactivity timeout in ms (default 60 s). */
  timeoutMs?: number;
}

export interface FetchResult {
  dataset: MovieLensName;
  dir: string;
  /** False when the files were already there and nothing was downloaded. */
  downloaded: boolean;
  bytes: number | null;
  sha256: string | null;
  /** Which checks the archive passed: sha256, md5, size, zip CRC-32 of every member. */
  verified: string[];
  files: string[];
}

/** True when `<dataDir>/<name>/` already holds the release's ratings and movies files. */
export function datasetPresent(dataDir: string, spec: MovieLensSpec): boolean {
  const dir = join(dataDir, spec.name);
  return existsSync(join(dir, spec.ratingsFile)) && existsSync(join(dir, spec.moviesFile));
}

/**
 * Downloads a MovieLens release, verifies it (sha256 where known, else md5 and size, and always every member's
 * CRC-32) and unpacks it into `<dataDir>/<name>/`. Work happens in hidden temporary paths that are renamed into
 * place only when everything checked out, so a failure never leaves a half-written dataset folder behind.
 */
export async function fetchDataset(name: string, options: FetchOptions = {}): Promise<FetchResult> {
  if (!isMovieLensName(name))
    throw new ConfigError(
      'dataset',
      `cannot fetch "${name}"; downloadable datasets: ${MOVIELENS_NAMES.join(', ')}`,
    );
  const spec: MovieLensSpec = { ...MOVIELENS[name], ...options.spec };
  const dataDir = resolveDataDir(options.dataDir);
  const dest = join(dataDir, name);
  if (datasetPresent(dataDir, spec)) {
    return {
      dataset: name,
      dir: dest,
      downloaded: false,
      bytes: null,
      sha256: null,
      verified: [],
      files: [],
    };
  }
  if (existsSync(dest)) {
    throw new DataError(
      dest,
      undefined,
      `folder exists but lacks ${spec.ratingsFile} / ${spec.moviesFile}; remove it (or fix it) and fetch again`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const tag = `${process.pid}-${Date.now()}`;
  const partial = join(dataDir, `.${name}.zip.${tag}.part`);
  const staging = join(dataDir, `.${name}.${tag}.extracting`);
  try {
    const archive = options.archive ?? partial;
    let digest: { sha256: string; md5: string; bytes: number };
    if (options.archive) {
      if (!existsSync(options.archive)) throw new DataError(options.archive, undefined, 'archive not found');
      digest = await hashFile(options.archive);
    } else {
      digest = await download(spec.url, partial, options);
    }
    const verified = verifyArchive(archive, spec, digest);
    mkdirSync(staging);
    const files = await extractZip(archive, staging, { stripPrefix: `${spec.archiveFolder}/` });
    verified.push('zip CRC-32');
    for (const required of [spec.ratingsFile, spec.moviesFile]) {
      if (!existsSync(join(staging, required)))
        throw new DataError(
          archive,
          undefined,
          `archive has no ${spec.archiveFolder}/${required}: not a ${name} archive?`,
        );
    }
    renameSync(staging, dest);
    if (options.keepArchive && !options.archive) renameSync(partial, join(dataDir, `${name}.zip`));
    return {
      dataset: name,
      dir: dest,
      downloaded: !options.archive,
      bytes: digest.bytes,
      sha256: digest.sha256,
      verified,
      files,
    };
  } finally {
    rmSync(partial, { force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

function verifyArchive(
  file: string,
  spec: MovieLensSpec,
  got: { sha256: string; md5: string; bytes: number },
): string[] {
  const verified: string[] = [];
  if (spec.archiveBytes !== null && got.bytes !== spec.archiveBytes) {
    throw new DataError(
      file,
      undefined,
      `archive is ${got.bytes} bytes, expected ${spec.archiveBytes}: ${got.bytes < spec.archiveBytes ? 'truncated download' : 'not the expected file'}`,
    );
  }
  if (spec.archiveBytes !== null) verified.push('size');
  if (spec.archiveSha256 !== null) {
    if (got.sha256 !== spec.archiveSha256.toLowerCase())
      throw new DataError(
        file,
        undefined,
        `sha256 mismatch: expected ${spec.archiveSha256}, got ${got.sha256} (corrupt download or a changed release)`,
      );
    verified.push('sha256');
  } else if (spec.archiveMd5 !== null) {
    if (got.md5 !== spec.archiveMd5.toLowerCase())
      throw new DataError(
        file,
        undefined,
        `md5 mismatch: expected ${spec.archiveMd5}, got ${got.md5} (corrupt download or a changed release)`,
      );
    verified.push('md5');
  }
  return verified;
}

class Hasher extends Transform {
  readonly sha256 = createHash('sha256');
  readonly md5 = createHash('md5');
  bytes = 0;
  constructor(private readonly onChunk?: (bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.sha256.update(chunk);
    this.md5.update(chunk);
    this.bytes += chunk.length;
    this.onChunk?.(this.bytes);
    done(null, chunk);
  }
  result(): { sha256: string; md5: string; bytes: number } {
    return { sha256: this.sha256.digest('hex'), md5: this.md5.digest('hex'), bytes: this.bytes };
  }
}

async function hashFile(file: string): Promise<{ sha256: string; md5: string; bytes: number }> {
  const h = new Hasher();
  await pipeline(createReadStream(file), h, new Writable({ write: (_c, _e, done) => done() }));
  return h.result();
}

function get(url: string, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : url.startsWith('http:') ? http : null;
    if (!lib) {
      reject(new ConfigError('url', `unsupported URL "${url}" (http or https only)`));
      return;
    }
    const req = lib.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= 5) reject(new DataError(url, undefined, 'too many redirects'));
        else resolve(get(new URL(res.headers.location, url).toString(), timeoutMs, redirects + 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new DataError(url, undefined, `download failed: HTTP ${status}`));
        return;
      }
      resolve(res);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data for ${timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(new DataError(url, undefined, `download failed: ${errorMessage(err)}`)));
  });
}

async function download(
  url: string,
  target: string,
  options: Pick<FetchOptions, 'onProgress' | 'timeoutMs'>,
): Promise<{ sha256: string; md5: string; bytes: number }> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const res = await get(url, timeoutMs);
  const length = res.headers['content-length'] ? Number(res.headers['content-length']) : null;
  const hasher = new Hasher((bytes) => options.onProgress?.(bytes, length));
  res.setTimeout(timeoutMs, () => res.destroy(new Error(`no data for ${timeoutMs / 1000} s`)));
  try {
    await pipeline(res, hasher, createWriteStream(target));
  } catch (err) {
    throw new DataError(
      url,
      undefined,
      `download interrupted after ${hasher.bytes} bytes: ${errorMessage(err)}`,
    );
  }
  if (!res.complete || (length !== null && hasher.bytes !== length)) {
    throw new DataError(
      url,
      undefined,
      `download truncated: got ${hasher.bytes} of ${length ?? 'an unknown number of'} bytes`,
    );
  }
  if (statSync(target).size !== hasher.bytes)
    throw new DataError(target, undefined, 'archive was not written completely');
  return hasher.result();
}

export interface ImdbFetchOptions {
  dataDir?: string;
  /** Where the dumps are served (default https://datasets.imdbws.com; tests serve their own). */
  baseUrl?: string;
  /** Which dumps (default all five). */
  dumps?: ImdbDump[];
  /** Download again even when a dump is already there. */
  force?: boolean;
  /** Called as bytes arrive for `file`; `total` is null when the server sends no length. */
  onProgress?: (file: string, received: number, total: number | null) => void;
  /** Called when a file is finished (downloaded or skipped). */
  onFileDone?: (file: string) => void;
  timeoutMs?: number;
}

export interface ImdbFetchResult {
  dataset: 'imdb';
  dir: string;
  /** False when every dump was already there. */
  downloaded: boolean;
  files: Array<{
    file: string;
    downloaded: boolean;
    bytes: number;
    /** Of the compressed file (IMDb publishes no checksums; this is what was received). */
    sha256: string | null;
    /** Uncompressed bytes (null when the file was already present and not checked again). */
    uncompressedBytes: number | null;
    verified: string[];
  }>;
  terms: string;
}

/**
 * Downloads IMDb's non-commercial dumps (personal and non-commercial use only) into `<dataDir>/imdb/`, each one
 * checked before it is renamed into place: the length the server announced, a full streaming decompression
 * (gzip's own CRC-32 and length trailer) and the published header line. A dump already there is kept.
 */
export async function fetchImdb(options: ImdbFetchOptions = {}): Promise<ImdbFetchResult> {
  const dir = join(resolveDataDir(options.dataDir), 'imdb');
  const base = (options.baseUrl ?? IMDB_BASE_URL).replace(/\/+$/, '');
  mkdirSync(dir, { recursive: true });
  const files: ImdbFetchResult['files'] = [];
  for (const dump of options.dumps ?? IMDB_DUMP_NAMES) {
    const { file, columns } = IMDB_DUMPS[dump];
    const dest = join(dir, file);
    if (!options.force && existsSync(dest)) {
      files.push({
        file,
        downloaded: false,
        bytes: statSync(dest).size,
        sha256: null,
        uncompressedBytes: null,
        verified: [],
      });
      options.onFileDone?.(file);
      continue;
    }
    const partial = join(dir, `.${file}.${process.pid}-${Date.now()}.part`);
    try {
      const digest = await download(`${base}/${file}`, partial, {
        onProgress: (received, total) => options.onProgress?.(file, received, total),
        timeoutMs: options.timeoutMs,
      });
      const verified = ['size'];
      const uncompressed = await checkGzip(partial, file, columns.join('\t'));
      verified.push('gzip CRC-32 and length', 'header');
      renameSync(partial, dest);
      files.push({
        file,
        downloaded: true,
        bytes: digest.bytes,
        sha256: digest.sha256,
        uncompressedBytes: uncompressed,
        verified,
      });
      options.onFileDone?.(file);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  return {
    dataset: 'imdb',
    dir,
    downloaded: files.some((f) => f.downloaded),
    files,
    terms: IMDB_TERMS,
  };
}

/**
 * Decompresses a gzip file fully into nothing (zlib checks every member's CRC-32 and length trailer) and checks
 * its first line; returns the uncompressed size.
 */
async function checkGzip(path: string, name: string, header: string): Promise<number> {
  let bytes = 0;
  let head = '';
  let headDone = false;
  try {
    await pipeline(
      createReadStream(path),
      createGunzip(),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (!headDone) {
            head += chunk.subarray(0, 64 * 1024).toString('utf8');
            const nl = head.indexOf('\n');
            if (nl >= 0 || head.length >= 64 * 1024) {
              headDone = true;
              head = nl >= 0 ? head.slice(0, nl) : head;
            }
          }
          done();
        },
      }),
    );
  } catch (err) {
    throw new DataError(name, undefined, `corrupt gzip download (${errorMessage(err)}): fetch it again`);
  }
  if (head.replace(/\r$/, '') !== header)
    throw new DataError(
      name,
      1,
      `not the IMDb dump: expected the header "${header.replace(/\t/g, '\\t')}", found "${head.slice(0, 200).replace(/\t/g, '\\t')}"`,
    );
  return bytes;
}
