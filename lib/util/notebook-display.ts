/**
 * The notebook side of rich output, at the bottom of the layers so that progress bars (lib/util) and figures
 * (lib/viz) share one channel into a tslab cell.
 */
/** One rich output: several representations of the same thing, keyed by MIME type. */
export type MimeBundle = Record<string, unknown>;

type WriteDisplayData = (
  data: { data: MimeBundle; metadata: object; transient: { display_id?: string } },
  update: boolean,
) => void;

/**
 * tslab's low-level display channel, when this code runs inside a tslab kernel cell. `display.raw` from
 * tslab's public API can only send strings, but JupyterLab's Plotly renderer needs a JSON object, and we
 * want several MIME types in one bundle, so we use the same function tslab's public API calls.
 */
function tslabWriter(): WriteDisplayData | null {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: tslab's internal module has no public type for this.
    const jupyter = require('tslab/dist/jupyter') as any;
    return (jupyter.lastWriteDisplayData as WriteDisplayData | null) ?? null;
  } catch {
    return null;
  }
}

/** True inside a tslab notebook cell. */
export function inNotebook(): boolean {
  return tslabWriter() !== null;
}

/** Sends a MIME bundle to the notebook (new output, or an update of `displayId`); false outside notebooks. */
export function displayBundle(bundle: MimeBundle, displayId?: string, update = false): boolean {
  const write = tslabWriter();
  if (!write) return false;
  write({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
  return true;
}
