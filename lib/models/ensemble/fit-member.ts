import { toShared } from '../../compute/pool';
import type { MovieCatalogue } from '../../data/catalogue';
import { IdMap } from '../../data/id-map';
import { Interactions } from '../../data/interactions';
import type { EpochReport, Recommender } from '../recommender';
import { type RankingRows, type ValidationSplit, validationNdcg, zScoreInPlace } from './validation';

/**
 * The catalogue with its typed arrays moved to SharedArrayBuffers, so every member task that gets it (structured
 * clone into a worker thread) shares the arrays instead of copying them; strings are still copied.
 */
export function shareCatalogue(catalogue: MovieCatalogue): MovieCatalogue {
  const share = <T extends Int32Array | Int16Array | Float32Array>(a: T): T => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
    const copy = new Ctor(new SharedArrayBuffer(a.byteLength));
    copy.set(a as never);
    return copy;
  };
  const csr = <C extends { indptr: Int32Array; indices: Int32Array }>(c: C | null | undefined) =>
    c ? { ...c, indptr: share(c.indptr), indices: share(c.indices) } : c;
  return {
    ...catalogue,
    movieIds: share(catalogue.movieIds),
    years: share(catalogue.years),
    genreIndptr: share(catalogue.genreIndptr),
    genreIndices: share(catalogue.genreIndices),
    itemIndex: share(catalogue.itemIndex),
    rowOfItem: share(catalogue.rowOfItem),
    tags: csr(catalogue.tags) ?? null,
    genome: catalogue.genome
      ? {
          ...catalogue.genome,
          movieIds: share(catalogue.genome.movieIds),
          tagIds: share(catalogue.genome.tagIds),
          relevance: share(catalogue.genome.relevance),
          rowOf: share(catalogue.genome.rowOf),
        }
      : null,
    links: catalogue.links
      ? { imdbIds: share(catalogue.links.imdbIds), tmdbIds: share(catalogue.links.tmdbIds) }
      : null,
  };
}

/**
 * What a member computes on the validation slice after its fit: rating mode, its predictions of the slice's
 * (user, item) pairs; ranking mode, its per-user z-scored scores of the stacking rows and its NDCG@k on the
 * slice; 'none' (the refit on all training ratings): nothing.
 */
export type MemberQuery =
  | { kind: 'none' }
  | { kind: 'pairs'; users: Int32Array; items: Int32Array }
  | { kind: 'ranking'; rows: RankingRows; k: number };

export interface MemberOutcome {
  /** Stacking features: predictions (rating) or z-scores (ranking), one per query row; null for 'none'. */
  features: Float32Array | null;
  /** NDCG@k on the validation slice (ranking queries). */
  ndcg: number | null;
  epochs: EpochReport[];
  seconds: number;
}

/**
 * Fits one member and answers the query. The same function runs in a worker thread (`member-task.ts`) and on
 * the calling thread, so both paths compute identical numbers.
 */
export async function fitAndQuery(
  model: Recommender,
  fit: Interactions,
  validation: Interactions | null,
  query: MemberQuery,
  options: { threads: number; signal?: AbortSignal; catalogue?: MovieCatalogue | null },
): Promise<MemberOutcome> {
  const epochs: EpochReport[] = [];
  const started = performance.now();
  await model.fit(fit, {
    threads: options.threads,
    signal: options.signal,
    onEpoch: (e) => epochs.push(e),
    ...(options.catalogue ? { catalogue: options.catalogue } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  if (query.kind === 'none') return { features: null, ndcg: null, epochs, seconds };
  if (query.kind === 'pairs')
    return { features: model.predict(query.users, query.items), ndcg: null, epochs, seconds };
  if (!validation) throw new RangeError('fitAndQuery: a ranking query needs the validation slice');
  const { rows, k } = query;
  const features = new Float32Array(rows.items.length);
  const scores = new Float32Array(fit.nItems);
  for (let r = 0; r < rows.users.length; r++) {
    model.scoreAll(rows.users[r]!, scores);
    zScoreInPlace(scores);
    for (let p = rows.indptr[r]!; p < rows.indptr[r + 1]!; p++) features[p] = scores[rows.items[p]!]!;
  }
  const split: ValidationSplit = { fit, validation };
  const ndcg = validationNdcg((u, out) => model.scoreAll(u, out), split, rows, k);
  return { features, ndcg, epochs, seconds };
}

/** Interactions as plain (shared) typed arrays, to cross into a worker thread without copying the ratings. */
export interface PortableInteractions {
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  timestamps: Int32Array | null;
  userIds: Int32Array;
  itemIds: Int32Array;
  source: string;
}

export function toPortable(data: Interactions): PortableInteractions {
  return {
    users: toShared(data.users),
    items: toShared(data.items),
    ratings: toShared(data.ratings),
    timestamps: data.timestamps ? toShared(data.timestamps) : null,
    userIds: toShared(data.userIds.ids),
    itemIds: toShared(data.itemIds.ids),
    source: data.source,
  };
}

export function fromPortable(p: PortableInteractions, maps?: { users: IdMap; items: IdMap }): Interactions {
  return new Interactions({
    users: p.users,
    items: p.items,
    ratings: p.ratings,
    timestamps: p.timestamps,
    userIds: maps?.users ?? IdMap.fromSorted(p.userIds),
    itemIds: maps?.items ?? IdMap.fromSorted(p.itemIds),
    source: p.source,
  });
}
