import type { SideInput } from '../data/side-information';
import type { Recommender } from './recommender';
import { modelEntry } from './registry';

/** Ensembles: the registry names of their members, from a built model or from its params (JSON or a list). */
function memberNames(
  model: Recommender | null,
  params: Record<string, unknown> | undefined,
): string[] | null {
  const specs = (model as { memberSpecs?: ReadonlyArray<{ model: string }> } | null)?.memberSpecs;
  if (specs) return specs.map((s) => s.model);
  const raw = params?.members;
  if (raw === undefined) return null;
  try {
    const list: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (!Array.isArray(list)) return null;
    return list.map((m) => String((m as { model?: unknown })?.model ?? ''));
  } catch {
    return null;
  }
}

/**
 * What a model's fit needs besides the ratings (registry `needs`). An ensemble needs what its members need;
 * given by name alone (members unknown), it gets the catalogue with the genome, so no member goes without.
 */
export function sideInputsOf(model: string | Recommender, params?: Record<string, unknown>): Set<SideInput> {
  const name = typeof model === 'string' ? model : model.name;
  const entry = modelEntry(name);
  const out = new Set<SideInput>(entry.needs ?? []);
  if (entry.name === 'ensemble' || entry.name === 'ensemble-ranking') {
    const members = memberNames(typeof model === 'string' ? null : model, params);
    if (members === null) out.add('genome');
    else
      for (const m of members) {
        try {
          for (const n of modelEntry(m).needs ?? []) out.add(n);
        } catch {
          // an unknown member name fails where the ensemble validates its members
        }
      }
  }
  return out;
}
