import type { MovieCatalogue } from '../../data/catalogue';
import type { ModelState } from '../recommender';
import { createModel } from '../registry';
import {
  fitAndQuery,
  fromPortable,
  type MemberOutcome,
  type MemberQuery,
  type PortableInteractions,
} from './fit-member';

/** A member fit as a worker task: everything in it is structured-clonable (typed arrays shared). */
export interface MemberTaskPayload {
  model: string;
  params: Record<string, unknown>;
  fit: PortableInteractions;
  validation: PortableInteractions | null;
  query: MemberQuery;
  /** The ensemble's catalogue (typed arrays shared, see `shareCatalogue`), passed on to the member's fit. */
  catalogue: MovieCatalogue | null;
}

export interface MemberTaskResult extends MemberOutcome {
  /** The fitted member's state; the ensemble restores the member from it on its own thread. */
  state: ModelState;
}

/**
 * Runs in a worker thread (lib/compute/pool.ts): builds the member from its registry name and params, fits it
 * single-threaded (the ensemble's concurrency is across members) and answers the validation query.
 */
export async function fitMemberTask(payload: MemberTaskPayload): Promise<MemberTaskResult> {
  const model = createModel(payload.model, payload.params);
  const fit = fromPortable(payload.fit);
  const validation = payload.validation
    ? fromPortable(payload.validation, { users: fit.userIds, items: fit.itemIds })
    : null;
  const outcome = await fitAndQuery(model, fit, validation, payload.query, {
    threads: 1,
    catalogue: payload.catalogue,
  });
  return { ...outcome, state: model.state() };
}
