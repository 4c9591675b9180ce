import { ConfigError } from '../util/errors';
import { type MovieCatalogue, moviesOf } from './catalogue';
import { type ImdbJoin, imdbPresent, loadImdb } from './imdb';
import { withImdbJoin } from './imdb-catalogue';
import type { Interactions } from './interactions';
import { loadCatalogue } from './load';
import { isMovieLensName } from './movielens';
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
 *
 * IMDb columns are opt-in: with `imdb: true`, `await side.prepare()` loads the IMDb join (lib/data/imdb) when
 * `<data dir>/imdb/` exists and every catalogue handed out carries it; without the folder (or without the
 * option) the catalogue is exactly what it is without IMDb.
 */
export class SideInformation {
  private cached: MovieCatalogue | null = null;
  private cachedGenome = false;
  private imdbJoin: ImdbJoin | null = null;
  private prepared = false;

  constructor(
    readonly dataset: string,
    /** Every rating of the dataset: its id maps define the item indices the catalogue is aligned with. */
    readonly all: Interactions,
    readonly options: {
      dataDir?: string;
      seed?: number;
      /** Attach the IMDb columns when `<data dir>/imdb/` exists (needs `await prepare()`); default false. */
      imdb?: boolean;
    } = {},
  ) {}

  /**
   * The asynchronous part of loading: with `imdb: true` and `<data dir>/imdb/` present, runs (or reads the
   * cache of) the dataset's IMDb join. Does nothing otherwise; calling it twice loads once.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    if (this.wantsImdb()) {
      this.imdbJoin = await loadImdb(this.dataset, { dataDir: this.options.dataDir });
      this.cached = null;
    }
    this.prepared = true;
  }

  private wantsImdb(): boolean {
    return this.options.imdb === true && isMovieLensName(this.dataset) && imdbPresent(this.options.dataDir);
  }

  /** The dataset's catalogue (read on first use; again, with the genome, the first time that is asked for). */
  catalogue(options: { genome?: boolean } = {}): MovieCatalogue {
    const genome = options.genome === true;
    if (!this.prepared && this.wantsImdb())
      throw new ConfigError(
        'imdb',
        `SideInformation(${this.dataset}, { imdb: true }) found IMDb data: call \`await side.prepare()\` before catalogue()`,
      );
    if (!this.cached || (genome && !this.cachedGenome)) {
      const catalogue = loadCatalogue(this.dataset, this.all.itemIds, {
        dataDir: this.options.dataDir,
        seed: this.options.seed,
        parts: genome ? ['tags', 'links', 'genome'] : ['tags', 'links'],
      });
      this.cached = this.imdbJoin ? withImdbJoin(catalogue, this.imdbJoin) : catalogue;
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
