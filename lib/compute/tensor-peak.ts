import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

export interface PeakEstimate {
  /** Theoretical float32 peak in GFLOP/s: cores × GHz × FLOPs per cycle per core. */
  gflops: number;
  cores: number;
  ghz: number;
  flopsPerCycle: number;
  /** The widest vector unit found in the CPU flags (avx512f, avx2+fma, avx, sse2). */
  vector: string;
  model: string;
  /** How the numbers were obtained, for reports. */
  method: string;
}

/**
 * Estimates the machine's float32 peak from /proc/cpuinfo (Linux; other systems use os.cpus()).
 * FLOPs/cycle/core assumes two FMA pipes per core, as on server Xeons and recent desktop cores:
 * AVX-512 + FMA: 2 pipes × 16 lanes × 2 (mul+add) = 64; AVX2 + FMA: 32; AVX without FMA: 16; SSE2: 8.
 * Clock: the nominal "@ x.xxGHz" of the model name when present, else "cpu MHz" (turbo is not counted).
 */
export function estimatePeak(cpuinfo: string | null = readCpuinfo()): PeakEstimate {
  const cores = availableParallelism();
  const info = cpuinfo ?? '';
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();
  const model = field('model name') ?? cpus()[0]?.model ?? 'unknown';
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  const nominal = /@\s*([\d.]+)\s*GHz/i.exec(model);
  const mhz = Number(field('cpu MHz') ?? cpus()[0]?.speed ?? 0);
  const ghz = nominal ? Number(nominal[1]) : mhz / 1000;
  let vector = 'scalar';
  let flopsPerCycle = 2;
  if (flags.has('avx512f') && flags.has('fma')) [vector, flopsPerCycle] = ['avx512f+fma', 64];
  else if (flags.has('avx2') && flags.has('fma')) [vector, flopsPerCycle] = ['avx2+fma', 32];
  else if (flags.has('avx')) [vector, flopsPerCycle] = ['avx', 16];
  else if (flags.has('sse2')) [vector, flopsPerCycle] = ['sse2', 8];
  return {
    gflops: cores * ghz * flopsPerCycle,
    cores,
    ghz,
    flopsPerCycle,
    vector,
    model,
    method: `${cores} cores × ${ghz.toFixed(2)} GHz (${nominal ? 'model name' : 'cpu MHz'}) × ${flopsPerCycle} FP32 FLOPs/cycle (${vector}, 2 FMA pipes assumed)`,
  };
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}
