/**
 * Patience-based early stopping on a per-epoch metric: training stops once `patience` epochs in a row brought
 * no improvement larger than `minDelta` over the best value so far; the best epoch is the one to keep (the
 * search then refits with that many epochs, so the model scored is exactly the best epoch's).
 */
export class EarlyStopper {
  private bestValue: number | null = null;
  private bestAt = 0;
  private since = 0;
  private last = 0;

  constructor(
    readonly goal: 'min' | 'max',
    readonly patience: number,
    readonly minDelta = 0,
  ) {
    if (!(Number.isInteger(patience) && patience >= 1))
      throw new RangeError(`patience must be a positive integer, got ${patience}`);
    if (!(minDelta >= 0)) throw new RangeError(`minDelta must be ≥ 0, got ${minDelta}`);
  }

  /** Records the value after `epoch`; true when training should stop now. NaN/∞ count as no improvement. */
  observe(epoch: number, value: number): boolean {
    this.last = epoch;
    const better =
      Number.isFinite(value) &&
      (this.bestValue === null ||
        (this.goal === 'min'
          ? value < this.bestValue - this.minDelta
          : value > this.bestValue + this.minDelta));
    if (better) {
      this.bestValue = value;
      this.bestAt = epoch;
      this.since = 0;
      return false;
    }
    this.since++;
    return this.since >= this.patience;
  }

  /** The best value seen (null before any finite value). */
  get best(): number | null {
    return this.bestValue;
  }

  /** Epoch of the best value (0 before any finite value). */
  get bestEpoch(): number {
    return this.bestAt;
  }

  /** The last epoch observed. */
  get lastEpoch(): number {
    return this.last;
  }
}
