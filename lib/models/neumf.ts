import { z } from 'zod';
import { type NeuralConfig, NeuralRecommender, parseLayers } from './nn/neural-model';
import { trainingFields } from './nn/schema';

export const neumfSchema = z
  .object({
    variant: z
      .enum(['neumf', 'gmf', 'mlp'])
      .default('neumf')
      .describe('NeuMF (GMF + MLP), GMF alone (generalised MF) or the MLP alone (He et al. 2017)'),
    mode: z
      .enum(['implicit', 'rating'])
      .default('implicit')
      .describe('implicit (BCE, sampled negatives) or rating'),
    factors: z.number().int().min(1).max(1024).default(16).describe('embedding size of each branch'),
    hidden: z.string().default('64,32,16').describe('MLP hidden layer sizes (mlp and neumf variants)'),
    biases: z.boolean().optional().describe('user/movie bias terms (default: on in rating mode)'),
    ...trainingFields,
  })
  .strict();
export type NeumfParams = z.infer<typeof neumfSchema>;

/** NeuMF and its special cases GMF and MLP: the hybrid network without content features. */
export class NeumfModel extends NeuralRecommender<NeumfParams> {
  readonly name: string = 'neumf';

  constructor(params: Partial<z.input<typeof neumfSchema>> = {}) {
    super(neumfSchema.parse(params));
    this.config();
  }

  protected config(): NeuralConfig {
    const p = this.params;
    return {
      factors: p.variant === 'gmf' ? 0 : p.factors,
      gmfFactors: p.variant === 'mlp' ? 0 : p.factors,
      hidden: p.variant === 'gmf' ? [] : parseLayers('hidden', p.hidden),
      biases: p.biases ?? p.mode === 'rating',
      content: null,
      embeddingStd: p.initStd,
      backend: p.backend,
      train: {
        mode: p.mode,
        epochs: p.epochs,
        batchSize: p.batchSize,
        learningRate: p.learningRate,
        reg: p.reg,
        weightDecay: p.weightDecay,
        dropout: p.dropout,
        patience: p.patience,
        holdout: p.holdout,
        negatives: p.negatives,
        positiveThreshold: p.threshold,
        seed: p.seed,
      },
    };
  }
}
