import { z } from 'zod';

/** Training hyperparameters shared by hybrid-nn and neumf (zod fields, spread into each schema). */
export const trainingFields = {
  epochs: z.number().int().min(1).max(1000).default(30).describe('maximum training epochs'),
  batchSize: z.number().int().min(1).max(65536).default(512).describe('examples (positives) per Adam step'),
  learningRate: z.number().positive().max(1).default(0.002).describe('Adam learning rate'),
  reg: z.number().min(0).default(0.0005).describe('L2 on the embedding rows and biases a batch touches'),
  weightDecay: z.number().min(0).default(0.00001).describe('L2 on dense-layer weights'),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('dropout after each hidden layer'),
  patience: z.number().int().min(1).default(3).describe('epochs without holdout improvement before stopping'),
  holdout: z
    .number()
    .min(0)
    .max(0.5)
    .default(0.05)
    .describe('fraction of training ratings held out for early stopping (0: no early stopping)'),
  negatives: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(4)
    .describe('implicit mode: sampled negatives per positive'),
  threshold: z
    .number()
    .min(0)
    .default(0)
    .describe('implicit mode: ratings ≥ this are positives (0: every interaction)'),
  initStd: z.number().min(0).default(0.05).describe('standard deviation of the embedding initialisation'),
  seed: z
    .number()
    .int()
    .default(42)
    .describe('seed of initialisation, holdout, batching, negatives and dropout'),
  backend: z
    .enum(['auto', 'tensorflow', 'wasm', 'cpu'])
    .default('auto')
    .describe('tensor backend for training (auto: tensorflow → wasm → cpu)'),
};
