import { z } from 'zod';
import { type NeuralConfig, NeuralRecommender, parseLayers } from './nn/neural-model';
import { trainingFields } from './nn/schema';

export const hybridNnSchema = z
  .object({
    mode: z
      .enum(['rating', 'implicit'])
      .default('rating')
      .describe('rating regression (MSE) or implicit (BCE)'),
    factors: z
      .number()
      .int()
      .min(0)
      .max(1024)
      .default(32)
      .describe('user/movie embedding size of the MLP branch'),
    gmfFactors: z.number().int().min(0).max(1024).default(0).describe('GMF-branch embedding size (0: none)'),
    hidden: z.string().default('64,32').describe('MLP hidden layer sizes, comma-separated'),
    biases: z.boolean().default(true).describe('user and movie bias terms'),
    content: z
      .boolean()
      .default(true)
      .describe('use movie content features (needs fit(train, { catalogue }))'),
    contentDims: z.number().int().min(1).max(1024).default(32).describe('width of the content tower'),
    genres: z.boolean().default(true).describe('genre multi-hot features'),
    textDims: z
      .number()
      .int()
      .min(0)
      .max(65536)
      .default(64)
      .describe('hashed TF-IDF title/tag n-gram buckets'),
    tags: z
      .boolean()
      .default(true)
      .describe("include the catalogue's tags in the text features when it has them"),
    numeric: z.boolean().default(true).describe('release year and log popularity features'),
    ...trainingFields,
  })
  .strict();
export type HybridNnParams = z.infer<typeof hybridNnSchema>;

/**
 * Seed 003's hybrid network on TensorFlow.js: user and movie embeddings, a content tower over genre multi-hot,
 * hashed TF-IDF title/tag n-grams and numeric features (year, popularity), an MLP over their concatenation,
 * optional GMF branch and biases. Rating mode regresses ratings; implicit mode learns from sampled negatives.
 */
export class HybridNnModel extends NeuralRecommender<HybridNnParams> {
  readonly name: string = 'hybrid-nn';

  constructor(params: Partial<z.input<typeof hybridNnSchema>> = {}) {
    super(hybridNnSchema.parse(params));
    this.config();
  }

  protected config(): NeuralConfig {
    const p = this.params;
    return {
      factors: p.factors,
      gmfFactors: p.gmfFactors,
      hidden: parseLayers('hidden', p.hidden),
      biases: p.biases,
      content:
        p.content && (p.genres || p.textDims > 0 || p.numeric)
          ? { genres: p.genres, textDims: p.textDims, tags: p.tags, numeric: p.numeric, dims: p.contentDims }
          : null,
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
