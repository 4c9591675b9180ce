import { createHash, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataError, errorMessage } from '../util/errors';
import { projectRoot } from '../util/project';
import { type KeyValue, type MetricRecord, metricFromJson, metricToJson } from './limits';
import type { MlflowDatasetInput, RunStatus } from './mlflow-client';

/**
 * The outbox: when the tracking server cannot be reached, every record is appended, one JSON line per
 * operation, to a file of this process under experiments/outbox/ and replayed later (`reelab mlflow sync`, or
 * the next run). Each operation has a client-made id, and each run a client-made key (the
 * `reelab.client_run_key` tag), so replay finds what already reached the server instead of duplicating it.
 *
 * Files: `<stamp>-<host>-<pid>-<rand>.jsonl` (first line: a header naming the server and the writing
 * process), `<same>.acks` (ids of operations applied, appended as they are), `<same>.blobs/<sha256>`
 * (artifact bytes). Fully acknowledged files of finished processes move to `synced/`.
 */

export const OUTBOX_VERSION = 1;
/** Tag that carries a run's client-made key. */
export const CLIENT_RUN_KEY_TAG = 'reelab.client_run_key';

/** A run as known when the operation was recorded: always its key, its server id once known. */
export interface RunRef {
  key: string;
  id: string | null;
  experiment: string;
}

export interface OutboxHeader {
  v: number;
  type: 'header';
  trackingUri: string;
  pid: number;
  host: string;
  createdAt: number;
}

interface OpBase {
  v: number;
  id: string;
  at: number;
  run: RunRef;
}
export interface CreateRunOp extends OpBase {
  type: 'createRun';
  runName: string;
  startTime: number;
  tags: KeyValue[];
  parent: RunRef | null;
}
export interface LogOp extends OpBase {
  type: 'log';
  metrics: MetricRecord[];
  params: KeyValue[];
  tags: KeyValue[];
}
export interface EndOp extends OpBase {
  type: 'end';
  status: RunStatus;
  endTime: number;
}
export interface ArtifactOp extends OpBase {
  type: 'artifact';
  /** Path relative to the run's artifact root. */
  path: string;
  /** sha256 of the bytes, stored as `<file>.blobs/<sha256>`. */
  blob: string;
  size: number;
}
/** Dataset inputs of a run (runs/log-inputs); replaying them again is harmless (the server deduplicates). */
export interface InputsOp extends OpBase {
  type: 'inputs';
  datasets: MlflowDatasetInput[];
}
export type OutboxOp = CreateRunOp | LogOp | EndOp | ArtifactOp | InputsOp;
export type NewOp =
  | Omit<CreateRunOp, 'v' | 'id' | 'at'>
  | Omit<LogOp, 'v' | 'id' | 'at'>
  | Omit<EndOp, 'v' | 'id' | 'at'>
  | Omit<ArtifactOp, 'v' | 'id' | 'at'>
  | Omit<InputsOp, 'v' | 'id' | 'at'>;

/** The outbox folder: REELAB_OUTBOX_DIR, else experiments/outbox in the project. */
export function defaultOutboxDir(): string {
  return process.env.REELAB_OUTBOX_DIR || join(projectRoot(), 'experiments', 'outbox');
}

function encodeOp(op: OutboxOp | OutboxHeader): string {
  if (op.type === 'log') return JSON.stringify({ ...op, metrics: op.metrics.map(metricToJson) });
  return JSON.stringify(op);
}

export interface OutboxFile {
  path: string;
  header: OutboxHeader;
  ops: OutboxOp[];
  /** Ids already applied (or rejected for good) with the reason for rejections. */
  acks: Map<string, string | null>;
}

/**
 * Reads an outbox file. A last line cut short (the writer died mid-append) is ignored; any other unreadable
 * line is a DataError naming the file and line.
 */
export function readOutboxFile(path: string): OutboxFile {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  let header: OutboxHeader | null = null;
  const ops: OutboxOp[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (i === lines.length - 1 && !complete) break;
      throw new DataError(path, i + 1, 'not a JSON line; the outbox file is damaged');
    }
    if (parsed.type === 'header') {
      if (i !== 0) throw new DataError(path, i + 1, 'header line in the middle of the file');
      if (parsed.v !== OUTBOX_VERSION)
        throw new DataError(
          path,
          i + 1,
          `outbox format version ${String(parsed.v)} is not ${OUTBOX_VERSION}`,
        );
      header = parsed as unknown as OutboxHeader;
      continue;
    }
    if (!header) throw new DataError(path, i + 1, 'the file does not start with an outbox header');
    ops.push(decodeOp(parsed, path, i + 1));
  }
  if (!header) throw new DataError(path, undefined, 'empty outbox file (no header)');
  return { path, header, ops, acks: readAcks(`${path}.acks`) };
}

function decodeOp(raw: Record<string, unknown>, path: string, line: number): OutboxOp {
  const ok =
    typeof raw.id === 'string' &&
    typeof raw.run === 'object' &&
    raw.run !== null &&
    typeof (raw.run as RunRef).key === 'string' &&
    ['createRun', 'log', 'end', 'artifact', 'inputs'].includes(String(raw.type));
  if (!ok) throw new DataError(path, line, `unknown outbox operation ${JSON.stringify(raw).slice(0, 120)}`);
  if (raw.type === 'log') {
    const metrics = (raw.metrics as Array<MetricRecord & { value: number | string }>).map((m) => ({
      ...m,
      value: metricFromJson(m.value),
    }));
    return { ...(raw as unknown as LogOp), metrics };
  }
  return raw as unknown as OutboxOp;
}

function readAcks(path: string): Map<string, string | null> {
  const acks = new Map<string, string | null>();
  if (!existsSync(path)) return acks;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { id: string; rejected?: string };
      acks.set(rec.id, rec.rejected ?? null);
    } catch {
      // A torn last line: that operation will simply be replayed again (replay is idempotent).
    }
  }
  return acks;
}

export function appendAck(file: string, id: string, rejected?: string): void {
  appendFileSync(`${file}.acks`, `${JSON.stringify(rejected ? { id, rejected } : { id })}\n`);
}

/** Outbox files (pending ones, not those under synced/), oldest first. */
export function listOutboxFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(dir, name));
}

export function blobPath(file: string, sha: string): string {
  return join(`${file}.blobs`, sha);
}

/** True when the process that wrote `header` still runs here (pid reuse can only delay a sync, never corrupt it). */
export function writerAlive(header: OutboxHeader): boolean {
  if (header.host !== hostname()) return false;
  // Our own pid: ours only if one of our writers made the file (else an old process had the same pid).
  if (header.pid === process.pid) return false;
  return pidAlive(header.pid);
}

/** True when `file` is being written by this process. */
export function isOwnOutboxFile(file: string): boolean {
  for (const w of writers.values()) if (w.path === file) return true;
  return false;
}

/** Moves a fully applied file (and its acks) to synced/; its blobs are dropped unless asked to keep them. */
export function retireOutboxFile(file: string, keepBlobs = false): void {
  const dir = join(file, '..', 'synced');
  mkdirSync(dir, { recursive: true });
  const name = file.slice(file.lastIndexOf('/') + 1);
  renameSync(file, join(dir, name));
  if (existsSync(`${file}.acks`)) renameSync(`${file}.acks`, join(dir, `${name}.acks`));
  if (keepBlobs && existsSync(`${file}.blobs`)) renameSync(`${file}.blobs`, join(dir, `${name}.blobs`));
  else rmSync(`${file}.blobs`, { recursive: true, force: true });
}

/** Cross-process lock on one outbox file while it is replayed; null when another live process holds it. */
export function lockOutboxFile(file: string): (() => void) | null {
  const lock = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = Number.NaN;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
      } catch {
        // vanished meanwhile
      }
      if (Number.isInteger(holder) && holder !== process.pid && pidAlive(holder)) return null;
      rmSync(lock, { force: true });
    }
  }
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * This process's outbox for one tracking server: created on first use, appended synchronously (a record is
 * on disk before the call returns, so a crash right after loses nothing).
 */
export class OutboxWriter {
  private file: string | null = null;
  /** Operations written by this process and not yet applied, in order. */
  readonly pending: OutboxOp[] = [];
  /** Server ids of runs this process recorded offline, once replay has created or found them. */
  readonly resolved = new Map<string, string>();

  constructor(
    readonly dir: string,
    readonly trackingUri: string,
  ) {}

  get path(): string | null {
    return this.file;
  }

  private ensureFile(): string {
    if (this.file) return this.file;
    mkdirSync(this.dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    const file = join(this.dir, `${stamp}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}.jsonl`);
    const header: OutboxHeader = {
      v: OUTBOX_VERSION,
      type: 'header',
      trackingUri: this.trackingUri,
      pid: process.pid,
      host: hostname(),
      createdAt: Date.now(),
    };
    appendFileSync(file, `${encodeOp(header)}\n`);
    this.file = file;
    return file;
  }

  /** Appends one operation (synchronously) and returns it with its id. */
  append(op: NewOp): OutboxOp {
    const full = { ...op, v: OUTBOX_VERSION, id: randomUUID(), at: Date.now() } as OutboxOp;
    appendFileSync(this.ensureFile(), `${encodeOp(full)}\n`);
    this.pending.push(full);
    return full;
  }

  /** Keeps a copy of artifact bytes next to the file; returns its sha256. */
  storeBlob(source: { file: string } | { bytes: Buffer }): { sha: string; size: number } {
    const file = this.ensureFile();
    const bytes = 'bytes' in source ? source.bytes : readFileSync(source.file);
    const sha = createHash('sha256').update(bytes).digest('hex');
    mkdirSync(`${file}.blobs`, { recursive: true });
    const dest = blobPath(file, sha);
    if (!existsSync(dest)) {
      if ('file' in source) copyFileSync(source.file, `${dest}.tmp`);
      else appendFileSync(`${dest}.tmp`, bytes);
      renameSync(`${dest}.tmp`, dest);
    }
    return { sha, size: bytes.length };
  }

  /** Marks an operation applied (or rejected for good, with the reason). */
  ack(op: OutboxOp, rejected?: string): void {
    appendAck(this.ensureFile(), op.id, rejected);
    const i = this.pending.indexOf(op);
    if (i >= 0) this.pending.splice(i, 1);
  }
}

const writers = new Map<string, OutboxWriter>();

/** The writer of this process for (dir, server); one per pair, shared by all runs. */
export function outboxWriter(dir: string, trackingUri: string): OutboxWriter {
  const key = `${dir}\u0000${trackingUri}`;
  let w = writers.get(key);
  if (!w) {
    w = new OutboxWriter(dir, trackingUri);
    writers.set(key, w);
  }
  return w;
}

/** Writers of this process (for `sync` run from the same process). */
export function liveWriters(): OutboxWriter[] {
  return [...writers.values()];
}

export function describeError(err: unknown): string {
  return errorMessage(err).slice(0, 2000);
}
