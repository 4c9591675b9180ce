import { availableParallelism } from 'node:os';

/**
 * How busy the machine was while a benchmark ran, for its report: above about one runnable job per core beyond
 * the benchmark itself, wall-clock times measure the share each side got rather than the code.
 */
export function loadNote(loadAfter1Min: number): string {
  const cores = availableParallelism();
  return loadAfter1Min > cores + 0.5
    ? `other jobs shared the ${cores} cores: wall-clock times are inflated, compare CPU times and ratios`
    : 'quiet machine: nothing else was running';
}
