import { loadTensorFlow, type TensorBackendName } from '../../compute/tensor';
import { type MovieCatalogue, requireCatalogue } from '../../data/catalogue';
import type { Interactions } from '../../data/interactions';
import { ConfigError, ReelabError } from '../../util/errors';
import { Rng } from '../../util/rng';
import { BaseRecommender, expectFloat32, expectNumber, type Params } from '../base';
import { ratingRange } from '../baseline';
import type { FitOptions, ModelState } from '../recommender';
import {
  buildContentFeatures,
  type ContentEncoder,
  type ContentSpec,
  contentDims,
  encodeMovie,
} from './content';
import {
  initWeights,
  NetworkScorer,
  type NetworkShape,
  type NetworkWeights,
  namedWeights,
  weightsFromNamed,
} from './network';
import { type TrainConfig, trainNetwork } from './trainer';

/** The resolved network + training configuration a parameter set maps to. */
export interface NeuralConfig {
  factors: number;
  gmfFactors: number;
  hidden: number[];
  biases: boolean;
  /** Content features and the width of the content tower; null: no content. */
  content: (ContentSpec & { dims: number }) | null;
  embeddingStd: number;
  backend: TensorBackendName | 'auto';
  train: TrainConfig;
}

/** Parses "64,32" into layer sizes ('' or 'none': no hidden layers). */
export function parseLayers(field: string, value: string): number[] {
  const v = value.trim();
  if (v === '' || v === 'none') return [];
  return v.split(',').map((part) => {
    const n = Number(part.trim());
    if (!(Number.isInteger(n) && n > 0 && n <= 4096))
      throw new ConfigError(field, `"${value}" must be comma-separated layer sizes in 1..4096, e.g. "64,32"`);
    return n;
  });
}

/**
 * Shared body of the TensorFlow.js models (hybrid-nn, neumf): trains with TF on the best backend, then keeps the
 * weights as typed arrays and scores with `NetworkScorer`, so predictions after a reload need no TensorFlow.
 */
export abstract class NeuralRecommender<P extends Params> extends BaseRecommender<P> {
  private shape: NetworkShape | null = null;
  private weights: NetworkWeights | null = null;
  private contentMatrix = new Float32Array(0);
  private encoder: ContentEncoder | null = null;
  private scorer: NetworkScorer | null = null;
  private low = -Infinity;
  private high = Infinity;
  /** Backend the last fit ran on, the epoch whose weights were kept and how many epochs ran. */
  trainingInfo: { backend: TensorBackendName | 'restored'; bestEpoch: number; epochsRun: number } | null =
    null;

  protected abstract config(): NeuralConfig;

  /** True when fit() needs the movie catalogue with the current parameters (content features on). */
  get needsCatalogue(): boolean {
    const c = this.config().content;
    return c !== null && (c.genres || c.textDims > 0 || c.numeric);
  }

  get mode(): 'rating' | 'implicit' {
    return this.config().train.mode;
  }

  protected async train(train: Interactions, options: FitOptions): Promise<void> {
    const cfg = this.config();
    const itemCounts = train.itemCounts();
    let contentIn = 0;
    this.encoder = null;
    this.contentMatrix = new Float32Array(0);
    if (cfg.content && this.needsCatalogue) {
      const catalogue = requireCatalogue(
        this.name,
        options.catalogue,
        'movie content (genres/text/year; or set content=false)',
      );
      const features = buildContentFeatures(catalogue, train.itemIds, itemCounts, cfg.content);
      this.encoder = features.encoder;
      this.contentMatrix = features.matrix;
      contentIn = features.dims;
    }
    const shape: NetworkShape = {
      nUsers: train.nUsers,
      nItems: train.nItems,
      factors: cfg.factors,
      gmfFactors: cfg.gmfFactors,
      hidden: cfg.hidden,
      contentIn,
      contentDims: cfg.content?.dims ?? 0,
      biases: cfg.biases,
    };
    [this.low, this.high] = cfg.train.mode === 'rating' ? ratingRange(train.ratings) : [-Infinity, Infinity];
    const initial = initWeights(
      shape,
      Rng.derive(cfg.train.seed, 10),
      cfg.embeddingStd,
      cfg.train.mode === 'rating' ? train.mean() : 0,
    );
    const { tf, backend } = await loadTensorFlow({ backend: cfg.backend });
    const result = await trainNetwork(
      tf,
      shape,
      initial,
      this.contentMatrix,
      train,
      cfg.train,
      [this.low, this.high],
      options,
    );
    zeroColdRows(result.weights, shape, train.userCounts(), itemCounts);
    this.shape = shape;
    this.weights = result.weights;
    this.scorer = new NetworkScorer(shape, result.weights, this.contentMatrix);
    this.trainingInfo = { backend, bestEpoch: result.bestEpoch, epochsRun: result.epochsRun };
  }

  protected predictOne(user: number, item: number): number {
    const s = this.scorer!;
    if (!(item >= 0 && item < this.nItems)) return clamp(this.weights!.outB[0]!, this.low, this.high);
    const r = s.score(user >= 0 && user < this.nUsers ? user : -1, item);
    return clamp(r, this.low, this.high);
  }

  scoreAll(user: number, out: Float32Array): void {
    this.assertFitted();
    this.scorer!.scoreAll(user >= 0 && user < this.nUsers ? user : -1, out);
  }

  /**
   * The feature row the movie in row `row` of `catalogue` would get (e.g. a movie that was not in the training
   * data: a row of a newer catalogue, or of `movieCatalogue([movie], null, …)`), with `popularity` training
   * interactions; null when the model has no content features. Encoded with the training catalogue's
   * vocabulary and statistics, which the model keeps (and saves).
   */
  encodeContent(catalogue: MovieCatalogue, row: number, popularity = 0): Float32Array | null {
    this.assertFitted();
    if (!this.encoder) return null;
    if (!(Number.isInteger(row) && row >= 0 && row < catalogue.size))
      throw new RangeError(`catalogue row ${row} is outside 0..${catalogue.size - 1}`);
    const out = new Float32Array(contentDims(this.encoder));
    encodeMovie(this.encoder, catalogue, row, popularity, out);
    return out;
  }

  /**
   * Predicted score of a known user (index; -1 for a user with no history) for a movie that is not in the
   * training data (row `row` of `catalogue`), from its content alone ("predict for a new movie"):
   * a rating in rating mode.
   */
  predictNewMovie(user: number, catalogue: MovieCatalogue, row: number): number {
    const content = this.encodeContent(catalogue, row, 0);
    if (!content)
      throw new ConfigError(this.name, 'this model has no content features, so it cannot score a new movie');
    const r = this.scorer!.scoreNewItem(user >= 0 && user < this.nUsers ? user : -1, content);
    return clamp(r, this.low, this.high);
  }

  /** The trained weights (read-only views) and the network's shape. */
  get network(): { shape: NetworkShape; weights: NetworkWeights; content: Float32Array } {
    this.assertFitted();
    return { shape: this.shape!, weights: this.weights!, content: this.contentMatrix };
  }

  protected modelState(): ModelState {
    const state: ModelState = {
      // Implicit mode has no rating range (±Infinity, which JSON cannot hold).
      low: Number.isFinite(this.low) ? this.low : null,
      high: Number.isFinite(this.high) ? this.high : null,
      contentIn: this.shape!.contentIn,
      'content.matrix': this.contentMatrix,
    };
    for (const [name, values] of Object.entries(namedWeights(this.weights!))) state[`w.${name}`] = values;
    if (this.encoder) {
      state['content.genres'] = this.encoder.genreVocabulary;
      state['content.idf'] = this.encoder.textIdf;
      state['content.stats'] = [
        this.encoder.yearMean,
        this.encoder.yearStd,
        this.encoder.popMean,
        this.encoder.popStd,
      ];
    }
    return state;
  }

  protected restoreModel(state: ModelState): void {
    const cfg = this.config();
    const contentIn = expectNumber(state, 'contentIn');
    const shape: NetworkShape = {
      nUsers: this.nUsers,
      nItems: this.nItems,
      factors: cfg.factors,
      gmfFactors: cfg.gmfFactors,
      hidden: cfg.hidden,
      contentIn,
      contentDims: cfg.content?.dims ?? 0,
      biases: cfg.biases,
    };
    const matrix = expectFloat32(state, 'content.matrix');
    if (matrix.length !== shape.nItems * contentIn)
      throw new ReelabError(
        `saved model: content matrix has ${matrix.length} values, expected ${shape.nItems}×${contentIn}`,
      );
    const weights = weightsFromNamed(shape, (name) => expectFloat32(state, `w.${name}`));
    this.encoder = null;
    if (cfg.content && contentIn > 0) {
      const genres = state['content.genres'];
      const stats = state['content.stats'];
      if (!Array.isArray(genres) || !Array.isArray(stats) || stats.length !== 4)
        throw new ReelabError('saved model: content encoder (content.genres / content.stats) is missing');
      this.encoder = {
        spec: {
          genres: cfg.content.genres,
          textDims: cfg.content.textDims,
          tags: cfg.content.tags,
          numeric: cfg.content.numeric,
        },
        genreVocabulary: genres.map(String),
        textIdf: expectFloat32(state, 'content.idf'),
        yearMean: Number(stats[0]),
        yearStd: Number(stats[1]),
        popMean: Number(stats[2]),
        popStd: Number(stats[3]),
      };
      if (contentDims(this.encoder) !== contentIn)
        throw new ReelabError(
          `saved model: content encoder gives ${contentDims(this.encoder)} columns, matrix has ${contentIn}`,
        );
    }
    this.low = state.low === null ? -Infinity : expectNumber(state, 'low');
    this.high = state.high === null ? Infinity : expectNumber(state, 'high');
    this.shape = shape;
    this.weights = weights;
    this.contentMatrix = matrix;
    this.scorer = new NetworkScorer(shape, weights, matrix);
    this.trainingInfo = { backend: 'restored', bestEpoch: 0, epochsRun: 0 };
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Users/items without training data keep no collaborative signal: their embeddings and biases become 0. */
function zeroColdRows(
  w: NetworkWeights,
  s: NetworkShape,
  userCounts: Int32Array,
  itemCounts: Int32Array,
): void {
  const clear = (a: Float32Array, row: number, width: number) => a.fill(0, row * width, (row + 1) * width);
  for (let u = 0; u < s.nUsers; u++) {
    if (userCounts[u]! > 0) continue;
    clear(w.userEmb, u, s.factors);
    clear(w.gmfUser, u, s.gmfFactors);
    if (s.biases) w.userBias[u] = 0;
  }
  for (let i = 0; i < s.nItems; i++) {
    if (itemCounts[i]! > 0) continue;
    clear(w.itemEmb, i, s.factors);
    clear(w.gmfItem, i, s.gmfFactors);
    if (s.biases) w.itemBias[i] = 0;
  }
}
