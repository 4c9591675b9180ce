/**
 * iALS half-iterations over worker threads. Factors and the confidence matrices live in SharedArrayBuffers;
 * each task solves a fixed range of rows, and rows depend only on the other side's factors, so the result is
 * bit-identical for any thread count. Sums (YᵀY, the loss) are taken over fixed chunks in a fixed order.
 */
import { type AlsSide, alsLossRows, cgSolveRows, choleskySolveRows } from './cg';
import { WASM_TASK_MODULE, WasmArena, type WasmCgPayload, type WasmModule, wasmCgTask } from './ials-wasm';
import { type WorkerPool, workerPool } from './pool';
import { balancedRanges, type SparseMatrix } from './sparse';

export type AlsSolver = 'cg' | 'cholesky';

const TASK_MODULE = __filename;
/** Rows per chunk of the fixed-order sums (independent of the thread count). */
const SUM_CHUNK_ROWS = 8192;

export interface AlsSolvePayload {
  side: AlsSide;
  start: number;
  end: number;
  solver: AlsSolver;
  cgSteps: number;
}

/** Worker task: solve rows [start, end). */
export function alsSolveTask(p: AlsSolvePayload): void {
  if (p.solver === 'cg') cgSolveRows(p.side, p.start, p.end, p.cgSteps);
  else choleskySolveRows(p.side, p.start, p.end);
}

export interface GramPayload {
  y: Float32Array;
  k: number;
  chunks: Array<[number, number]>;
}

/** Worker task: YᵀY of each chunk of rows (lower triangles, k·k each, concatenated). */
export function gramChunksTask(p: GramPayload): Float64Array {
  const { y, k, chunks } = p;
  const out = new Float64Array(chunks.length * k * k);
  for (let c = 0; c < chunks.length; c++) {
    const [start, end] = chunks[c]!;
    const g = out.subarray(c * k * k, (c + 1) * k * k);
    for (let r = start; r < end; r++) {
      const base = r * k;
      for (let f = 0; f < k; f++) {
        const v = y[base + f]!;
        if (v === 0) continue;
        const row = f * k;
        for (let h = 0; h <= f; h++) g[row + h]! += v * y[base + h]!;
      }
    }
  }
  return out;
}

export interface LossPayload {
  side: AlsSide;
  chunks: Array<[number, number]>;
}

/** Worker task: loss pieces of each chunk, [loss, confidence, norm] per chunk. */
export function alsLossChunksTask(p: LossPayload): Float64Array {
  const out = new Float64Array(p.chunks.length * 3);
  for (let c = 0; c < p.chunks.length; c++) {
    const [start, end] = p.chunks[c]!;
    const r = alsLossRows(p.side, start, end);
    out[3 * c] = r.loss;
    out[3 * c + 1] = r.confidence;
    out[3 * c + 2] = r.norm;
  }
  return out;
}

/** Fixed chunks of 0..n (do not depend on the thread count). */
export function sumChunks(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += SUM_CHUNK_ROWS) out.push([s, Math.min(n, s + SUM_CHUNK_ROWS)]);
  return out;
}

/** Runs `fn` over the fixed chunks, spread over the pool (or inline with one thread); results in chunk order. */
async function overChunks<P extends { chunks: Array<[number, number]> }>(
  threads: number,
  chunks: Array<[number, number]>,
  fn: string,
  make: (chunks: Array<[number, number]>) => P,
  inline: (p: P) => Float64Array,
  width: number,
): Promise<Float64Array[]> {
  const per = (c: number, all: Float64Array) => all.subarray(c * width, (c + 1) * width);
  if (threads <= 1) {
    const all = inline(make(chunks));
    return chunks.map((_, c) => per(c, all));
  }
  const groups: Array<Array<[number, number]>> = [];
  for (let t = 0; t < threads; t++) groups.push(chunks.filter((_, c) => c % threads === t));
  const pool = workerPool(threads);
  const results = await pool.map<Float64Array>(
    { module: TASK_MODULE, fn },
    groups.map((g) => make(g)),
  );
  return chunks.map((_, c) => per(Math.floor(c / threads), results[c % threads]!));
}

/** YᵀY (+ reg·I on the diagonal), k × k, summed over fixed chunks in order. */
export async function gramOf(
  y: Float32Array,
  k: number,
  reg: number,
  threads: number,
): Promise<Float64Array> {
  const n = y.length / k;
  const parts = await overChunks(
    threads,
    sumChunks(n),
    'gramChunksTask',
    (chunks) => ({ y, k, chunks }),
    gramChunksTask,
    k * k,
  );
  const g = new Float64Array(k * k);
  for (const part of parts) for (let e = 0; e < k * k; e++) g[e]! += part[e]!;
  for (let f = 0; f < k; f++) {
    g[f * k + f]! += reg;
    for (let h = 0; h < f; h++) g[h * k + f] = g[f * k + h]!;
  }
  return g;
}

/** Solves every row of `side` (rows split by nnz over the threads; inline with one thread). */
export async function solveSide(
  side: AlsSide,
  solver: AlsSolver,
  cgSteps: number,
  threads: number,
): Promise<void> {
  const rows = side.indptr.length - 1;
  if (threads <= 1) {
    alsSolveTask({ side, start: 0, end: rows, solver, cgSteps });
    return;
  }
  const pool: WorkerPool = workerPool(threads);
  // One piece per thread, balanced by estimated cost (nnz plus a per-row term for the dense k × k work).
  const pieces = balancedRanges(side.indptr, threads, solver === 'cg' ? 4 * side.k : side.k * side.k);
  await Promise.all(
    pieces.map(([start, end], t) =>
      pool.run(t, { module: TASK_MODULE, fn: 'alsSolveTask' }, { side, start, end, solver, cgSteps }),
    ),
  );
}

/**
 * implicit's normalised iALS objective: (Σ_stored c(1 − s)² + Σ_unstored s² + λ(‖X‖² + ‖Y‖²)) /
 * (Σ c + users·items − nnz), with s = x_u·y_i. `side` has x = user factors, y = item factors.
 */
export async function alsLoss(side: AlsSide, nItems: number, reg: number, threads: number): Promise<number> {
  const { k } = side;
  const yty = await gramOf(side.y, k, 0, threads);
  const s = { ...side, yty };
  const rows = side.indptr.length - 1;
  const parts = await overChunks(
    threads,
    sumChunks(rows),
    'alsLossChunksTask',
    (chunks) => ({ side: s, chunks }),
    alsLossChunksTask,
    3,
  );
  let loss = 0;
  let confidence = 0;
  let userNorm = 0;
  for (const p of parts) {
    loss += p[0]!;
    confidence += p[1]!;
    userNorm += p[2]!;
  }
  let itemNorm = 0;
  for (let e = 0; e < side.y.length; e++) itemNorm += side.y[e]! * side.y[e]!;
  const nnz = side.indptr[rows]!;
  loss += reg * (itemNorm + userNorm);
  return loss / (confidence + rows * nItems - nnz);
}

/** iALS state inside a shared WebAssembly memory, for the SIMD CG kernel (see ./ials-wasm.ts). */
export interface WasmAls {
  module: WasmModule;
  arena: WasmArena;
  users: { indptr: Int32Array; indices: Int32Array; values: Float32Array };
  items: { indptr: Int32Array; indices: Int32Array; values: Float32Array };
  x: Float32Array;
  y: Float32Array;
  yty: Float32Array;
  /** threads × 3k floats of per-task scratch. */
  scratch: Float32Array;
  k: number;
}

/** Lays out both confidence matrices and the factors in one shared WebAssembly memory (copies them in). */
export function wasmAls(
  module: WasmModule,
  cui: SparseMatrix,
  ciu: SparseMatrix,
  k: number,
  threads: number,
): WasmAls {
  const nnz = cui.indices.length;
  const size = WasmArena.size;
  const bytes =
    size(cui.nRows + 1) +
    size(ciu.nRows + 1) +
    4 * size(nnz) +
    size(cui.nRows * k) +
    size(ciu.nRows * k) +
    size(k * k) +
    size(threads * 3 * k);
  const arena = new WasmArena(bytes);
  const copy = (m: SparseMatrix) => {
    const indptr = arena.int32(m.indptr.length);
    const indices = arena.int32(nnz);
    const values = arena.float32(nnz);
    indptr.set(m.indptr);
    indices.set(m.indices);
    values.set(m.values);
    return { indptr, indices, values };
  };
  const users = copy(cui);
  const items = copy(ciu);
  return {
    module,
    arena,
    users,
    items,
    x: arena.float32(cui.nRows * k),
    y: arena.float32(ciu.nRows * k),
    yty: arena.float32(k * k),
    scratch: arena.float32(threads * 3 * k),
    k,
  };
}

/** CG steps for every user (side 'users') or item with the SIMD kernel; `gram` = the other side's YᵀY + λI. */
export async function solveSideWasm(
  w: WasmAls,
  side: 'users' | 'items',
  gram: Float64Array,
  cgSteps: number,
  threads: number,
): Promise<void> {
  w.yty.set(gram);
  const m = side === 'users' ? w.users : w.items;
  const [x, y] = side === 'users' ? [w.x, w.y] : [w.y, w.x];
  const pieces =
    threads <= 1
      ? [[0, m.indptr.length - 1] as [number, number]]
      : balancedRanges(m.indptr, threads, 4 * w.k);
  const payloads: WasmCgPayload[] = pieces.map(([start, end], t) => ({
    module: w.module,
    memory: w.arena.memory,
    indptr: m.indptr.byteOffset,
    indices: m.indices.byteOffset,
    values: m.values.byteOffset,
    x: x.byteOffset,
    y: y.byteOffset,
    yty: w.yty.byteOffset,
    scratch: w.scratch.byteOffset + t * 3 * w.k * 4,
    k: w.k,
    start,
    end,
    steps: cgSteps,
  }));
  if (threads <= 1) {
    wasmCgTask(payloads[0]!);
    return;
  }
  await workerPool(threads).map({ module: WASM_TASK_MODULE, fn: 'wasmCgTask' }, payloads);
}
