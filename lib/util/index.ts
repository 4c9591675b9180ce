/** `rl.util`: progress reporting, the error classes, the seeded random generator. */
export * from './errors';
export * from './progress';
export * from './rng';
