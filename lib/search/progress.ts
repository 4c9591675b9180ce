/**
 * The progress of one search phase: a bar over the trials to run whose detail text is the best selection
 * metric so far ("best rmse 0.9123 (svd factors=16 …)"), counting reused trials too, and the failures at the end.
 */
import { describeParams } from '../util/params-text';
import { type Progress, type ProgressOptions, type ProgressOutput, progress } from '../util/progress';
import type { TrialResult } from './result';

/** The best value of one metric among the results noted so far. */
export class BestSoFar {
  private best: { value: number; what: string } | null = null;

  constructor(
    /** The MLflow key of the selection metric (e.g. `full/ndcg_at_10`). */
    readonly key: string,
    /** Its name as the config spells it (shown in the detail). */
    readonly metric: string,
    readonly goal: 'min' | 'max',
  ) {}

  /** Takes `r` into account (results without a finite value of the key are ignored). */
  note(r: TrialResult): void {
    const v = r.metrics[this.key];
    if (v === undefined || !Number.isFinite(v)) return;
    if (!this.best || (this.goal === 'min' ? v < this.best.value : v > this.best.value))
      this.best = { value: v, what: `${r.label} ${describeParams(r.searched)}` };
  }

  get value(): number | null {
    return this.best?.value ?? null;
  }

  /** `best <metric> <value> (<label> <params>)`, or '' before any result. */
  detail(): string {
    const b = this.best;
    return b ? `best ${this.metric} ${b.value.toFixed(4)} (${b.what})` : '';
  }
}

export interface PhaseProgressOptions {
  /** e.g. `grid-svd search (3 reused)`. */
  label: string;
  /** Trials to run in this phase. */
  total: number;
  output?: ProgressOutput;
  /** Passed to the bar (tests use it to capture the output). */
  bar?: Omit<ProgressOptions, 'label' | 'total' | 'unit' | 'output'>;
  best: BestSoFar;
}

/** Progress of one phase: `trialDone` after every trial that ran (or failed), `done` at the end. */
export class PhaseProgress {
  private readonly bar: Progress;
  private failed = 0;

  constructor(private readonly options: PhaseProgressOptions) {
    this.bar = progress({
      ...options.bar,
      total: options.total,
      label: options.label,
      unit: 'trials',
      output: options.output ?? 'auto',
    });
  }

  get failures(): number {
    return this.failed;
  }

  trialDone(r: TrialResult): void {
    if (r.status === 'failed') this.failed++;
    else this.options.best.note(r);
    this.bar.tick(1, this.options.best.detail());
  }

  done(): void {
    this.bar.done(`${this.options.best.detail()}${this.failed ? ` · ${this.failed} failed` : ''}`);
  }
}

/** The label of a phase's bar: `<name> <phase>`, plus how many of its trials were reused. */
export function phaseLabel(name: string, phase: string, reused: number): string {
  return `${name} ${phase}${reused ? ` (${reused} reused)` : ''}`;
}
