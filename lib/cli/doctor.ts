import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadTensorFlow,
  measureMatMulGflops,
  TENSOR_BACKENDS,
  type TensorBackendName,
} from '../compute/tensor';
import { estimatePeak, type PeakEstimate } from '../compute/tensor-peak';
import { ConfigError, errorMessage } from '../util/errors';
import { projectRoot, venvBin } from '../util/project';
import { printResult } from './output';

export interface ToolStatus {
  ok: boolean;
  version: string | null;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  node: ToolStatus;
  venv: ToolStatus;
  python: ToolStatus;
  mlflow: ToolStatus;
  tslabKernel: ToolStatus;
  tensorflow: {
    ok: boolean;
    backend: TensorBackendName | null;
    reason: string;
    tfjsVersion: string | null;
    /** Version of the native TensorFlow library when the backend is 'tensorflow'. */
    nativeVersion: string | null;
    matMul: { n: number; gflops: number; medianMs: number } | null;
    peak: PeakEstimate;
    /** Measured matMul GFLOP/s as a fraction of the peak estimate. */
    efficiency: number | null;
  };
}

function run(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    }).trim();
  } catch {
    return null;
  }
}

function checkTslab(): ToolStatus {
  const spec = join(projectRoot(), '.venv', 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json');
  if (!existsSync(spec)) return { ok: false, version: null, detail: `${spec} missing: run scripts/setup.sh` };
  try {
    const argv = (JSON.parse(readFileSync(spec, 'utf8')) as { argv?: string[] }).argv ?? [];
    const bin = argv[0] ?? '';
    const ok = existsSync(bin);
    return { ok, version: null, detail: ok ? `${spec} → ${bin}` : `${spec} points at missing ${bin}` };
  } catch (err) {
    return { ok: false, version: null, detail: `${spec}: ${errorMessage(err)}` };
  }
}

/** Checks the toolchain and measures the tensor backend (what `reelab doctor` prints). */
export async function doctor(
  options: { backend?: TensorBackendName | 'auto'; size?: number } = {},
): Promise<DoctorReport> {
  const python = venvBin('python');
  const venvOk = existsSync(python);
  const pyVersion = venvOk ? run(python, ['--version']) : null;
  const mlflowVersion = venvOk
    ? run(python, ['-c', 'import importlib.metadata as m; print(m.version("mlflow"))'])
    : null;
  const peak = estimatePeak();
  const n = options.size ?? 1024;
  let tensorflow: DoctorReport['tensorflow'];
  try {
    const handle = await loadTensorFlow({ backend: options.backend });
    const matMul = { n, ...measureMatMulGflops(handle.tf, n) };
    let nativeVersion: string | null = null;
    if (handle.backend === 'tensorflow') {
      const backend = handle.tf.backend() as unknown as { binding?: { TF_Version?: string } };
      nativeVersion = backend.binding?.TF_Version ?? null;
    }
    tensorflow = {
      ok: true,
      backend: handle.backend,
      reason: handle.reason,
      tfjsVersion: handle.tf.version.tfjs ?? null,
      nativeVersion,
      matMul,
      peak,
      efficiency: peak.gflops > 0 ? matMul.gflops / peak.gflops : null,
    };
  } catch (err) {
    tensorflow = {
      ok: false,
      backend: null,
      reason: errorMessage(err),
      tfjsVersion: null,
      nativeVersion: null,
      matMul: null,
      peak,
      efficiency: null,
    };
  }
  const report: DoctorReport = {
    ok: false,
    node: { ok: true, version: process.version, detail: process.execPath },
    venv: { ok: venvOk, version: null, detail: venvOk ? python : `${python} missing: run scripts/setup.sh` },
    python: { ok: pyVersion !== null, version: pyVersion?.replace(/^Python\s+/, '') ?? null, detail: python },
    mlflow: { ok: mlflowVersion !== null, version: mlflowVersion, detail: 'installed in the venv' },
    tslabKernel: checkTslab(),
    tensorflow,
  };
  report.ok =
    report.venv.ok && report.python.ok && report.mlflow.ok && report.tslabKernel.ok && tensorflow.ok;
  return report;
}

function human(r: DoctorReport): string {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  const tf = r.tensorflow;
  const lines = [
    `${mark(r.node.ok)} node ${r.node.version}`,
    `${mark(r.venv.ok)} venv ${r.venv.detail}`,
    `${mark(r.python.ok)} python ${r.python.version ?? '-'}`,
    `${mark(r.mlflow.ok)} mlflow ${r.mlflow.version ?? '-'}`,
    `${mark(r.tslabKernel.ok)} tslab kernel ${r.tslabKernel.detail}`,
    `${mark(tf.ok)} tensor backend ${tf.backend ?? '-'}${tf.nativeVersion ? ` (TensorFlow ${tf.nativeVersion})` : ''}: ${tf.reason}`,
  ];
  if (tf.matMul) {
    lines.push(
      `     matMul ${tf.matMul.n}²: ${tf.matMul.gflops.toFixed(1)} GFLOP/s (${tf.matMul.medianMs.toFixed(1)} ms) = ${((tf.efficiency ?? 0) * 100).toFixed(0)}% of the ${tf.peak.gflops.toFixed(0)} GFLOP/s peak estimate`,
    );
  }
  lines.push(`     peak estimate: ${tf.peak.method}; ${tf.peak.model}`);
  return lines.join('\n');
}

export async function doctorCommand(opts: { backend: string; size: string; json?: boolean }): Promise<void> {
  if (opts.backend !== 'auto' && !(TENSOR_BACKENDS as readonly string[]).includes(opts.backend))
    throw new ConfigError('--backend', `"${opts.backend}" is not one of auto, ${TENSOR_BACKENDS.join(', ')}`);
  const size = Number(opts.size);
  if (!(Number.isInteger(size) && size >= 16 && size <= 8192))
    throw new ConfigError('--size', `expected an integer in 16..8192, got "${opts.size}"`);
  const report = await doctor({ backend: opts.backend as TensorBackendName | 'auto', size });
  printResult(report, opts.json === true, human);
  if (!report.ok) process.exitCode = 1;
}
