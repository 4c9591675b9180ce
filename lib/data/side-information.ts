import { type MovieCatalogue, moviesOf } from './catalogue';
import type { Interactions } from './interactions';
import { loadCatalogue } from './load';
import type { Movie } from './movies';

/**
 * Side information a model's fit needs besides the ratings, handed over as `fit(train, { catalogue })`:
 * 'catalogue' the movie catalogue (genres, years, tags, links); 'genome' also its tag-genome scores, where the
 * release has them. Which models need what: lib/models/side-inputs.ts.
 */
export type SideInput = 'catalogue' | 'genome';

/**
 * Side information for model fits, loaded once per dataset and only when a model needs it: the movie catalogue
 * (genres, years, tags, links; the tag genome when a model uses it), aligned with the dataset's item indices.
 * Shared by `evaluate`, `train`, model comparison and search trials:
 *
 *     await model.fit(train, { ...side.fitInputs(sideInputsOf(model)), threads });
 */
export class SideInformation {
  private cached: MovieCatalogue | null = null;
  private cachedGenome = false;

  constructor(
    readonly dataset: string,
    /** Every rating of the dataset: its id maps define the item indices the catalogue is aligned with. */
    readonly all: Interactions,
    readonly options: { dataDir?: string; seed?: number } = {},
  ) {}

  /** The dataset's catalogue (read on first use; again, with the genome, the first time that is asked for). */
  catalogue(options: { genome?: boolean } = {}): MovieCatalogue {
    const genome = options.genome === true;
    if (!this.cached || (genome && !this.cachedGenome)) {
      this.cached = loadCatalogue(this.dataset, this.all.itemIds, {
        dataDir: this.options.dataDir,
        seed: this.options.seed,
        parts: genome ? ['tags', 'links', 'genome'] : ['tags', 'links'],
      });
      this.cachedGenome = genome;
    }
    return this.cached;
  }

  /**
   * The side information to spread into `model.fit(train, { ... })` for a model that needs `needs`
   * (lib/models/side-inputs `sideInputsOf`): `{ catalogue }` when it needs any, else nothing.
   */
  fitInputs(needs: ReadonlySet<SideInput>): { catalogue?: MovieCatalogue } {
    if (!needs.has('catalogue') && !needs.has('genome')) return {};
    return { catalogue: this.catalogue({ genome: needs.has('genome') }) };
  }

  /** Genres per item index for the diversity metric (the catalogue itself). */
  itemGenres(): MovieCatalogue {
    return this.catalogue();
  }

  /** The catalogue's movies as `Movie` records (what lib/serving's MovieTable is built from). */
  movieTable(): Movie[] {
    return moviesOf(this.catalogue());
  }
}
