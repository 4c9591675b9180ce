import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MovieCatalogue, peopleNamesOf, rowOfMovie } from '../../lib/data/catalogue';
import { fetchImdb } from '../../lib/data/fetch';
import { IMDB_DUMPS, type ImdbDump, type ImdbJoin, loadImdb, peopleOf } from '../../lib/data/imdb';
import { attachImdb, withImdbJoin } from '../../lib/data/imdb-catalogue';
import {
  matchTitles,
  moveArticleToFront,
  movieLensTitleKeys,
  normaliseTitle,
  type TitleCandidate,
  tconstOf,
} from '../../lib/data/imdb-titles';
import { loadCatalogue, loadDataset } from '../../lib/data/load';
import { SideInformation } from '../../lib/data/side-information';
import { movieFeatureMatrix } from '../../lib/features/movies';
import { ConfigError, DataError } from '../../lib/util/errors';
import { HAS_ML_LATEST_SMALL, HAS_ML100K, realDataDir } from '../helpers/data';

/*
 * Hand-written IMDb-format dumps: a handful of real movies and people (ids, titles, years, runtimes, directors,
 * writers and cast as IMDb lists them; ratings and votes rounded), abridged to what the tests need — never a piece
 * of a real dump. Two records are INVENTED to exercise the rules and say so: tt9900001 (a same-titled, same-year
 * TV movie "Heat", for the ambiguity rule) and tt9900002 (an "Antonia's Line" dated 1996, for the ±1-year rule).
 */
const N = '\\N';
const tsv = (columns: readonly string[], rows: string[][]) =>
  `${[columns, ...rows].map((r) => r.join('\t')).join('\n')}\n`;

const BASICS = [
  ['tt0114709', 'movie', 'Toy Story', 'Toy Story', '0', '1995', N, '81', 'Adventure,Animation,Comedy'],
  ['tt0113497', 'movie', 'Jumanji', 'Jumanji', '0', '1995', N, '104', 'Adventure,Comedy,Family'],
  [
    'tt0114814',
    'movie',
    'The Usual Suspects',
    'The Usual Suspects',
    '0',
    '1995',
    N,
    '106',
    'Crime,Drama,Mystery',
  ],
  [
    'tt0112682',
    'movie',
    'The City of Lost Children',
    'La cité des enfants perdus',
    '0',
    '1995',
    N,
    '112',
    'Adventure,Fantasy,Sci-Fi',
  ],
  ['tt0114369', 'movie', 'Se7en', 'Se7en', '0', '1995', N, '127', 'Crime,Drama,Mystery'],
  [
    'tt0110877',
    'movie',
    'Il postino: The Postman',
    'Il postino',
    '0',
    '1994',
    N,
    '108',
    'Biography,Comedy,Drama',
  ],
  ['tt0113247', 'movie', 'La haine', 'La haine', '0', '1995', N, '98', 'Crime,Drama'],
  ['tt0113277', 'movie', 'Heat', 'Heat', '0', '1995', N, '170', 'Action,Crime,Drama'],
  [
    'tt0013442',
    'movie',
    'Nosferatu',
    'Nosferatu, eine Symphonie des Grauens',
    '0',
    '1922',
    N,
    '94',
    'Fantasy,Horror',
  ],
  ['tt0108778', 'tvSeries', 'Friends', 'Friends', '0', '1994', '2004', '22', 'Comedy,Romance'],
  // Invented (see above).
  ['tt9900001', 'tvMovie', 'Heat', 'Heat', '0', '1995', N, N, 'Drama'],
  ['tt9900002', 'movie', "Antonia's Line", 'Antonia', '0', '1996', N, N, 'Drama'],
];
const CREW = [
  ['tt0114709', 'nm0005124', 'nm0005124,nm0230032,nm0004056'],
  ['tt0113497', 'nm0002653', N],
  ['tt0114814', 'nm0001741', 'nm0003160'],
  ['tt0112682', 'nm0000466', N],
  ['tt0114369', 'nm0000399', N],
  ['tt0110877', N, N],
  ['tt0113247', N, N],
  ['tt0113277', 'nm0000520', 'nm0000520'],
  ['tt0013442', N, N],
];
const PRINCIPALS = [
  ['tt0114709', '1', 'nm0000158', 'actor', N, '["Woody"]'],
  ['tt0114709', '2', 'nm0000741', 'actor', N, '["Buzz Lightyear"]'],
  ['tt0114709', '10', 'nm0005124', 'director', N, N],
  ['tt0113497', '1', 'nm0000245', 'actor', N, '["Alan Parrish"]'],
  // Out of billing order in the file: the join must follow `ordering`. Quotes are not quoting in IMDb's files.
  ['tt0114814', '2', 'nm0000321', 'actor', N, '["Dean Keaton"]'],
  ['tt0114814', '1', 'nm0000228', 'actor', N, `["Roger 'Verbal' Kint"]`],
  ['tt0114814', '5', 'nm0001741', 'director', N, N],
  ['tt0113277', '1', 'nm0000199', 'actor', N, '["Lt. Vincent Hanna"]'],
  ['tt0113277', '2', 'nm0000134', 'actor', N, '["Neil McCauley"]'],
  ['tt0114369', '1', 'nm0000093', 'actor', N, '["Mills"]'],
  ['tt0114369', '2', 'nm0000151', 'actor', N, '["Somerset"]'],
];
const NAMES = [
  ['nm0005124', 'John Lasseter', '1957', N, 'producer,writer,director', 'tt0114709'],
  ['nm0230032', 'Pete Docter', '1968', N, 'writer,producer,director', 'tt0114709'],
  ['nm0004056', 'Andrew Stanton', '1965', N, 'writer,director,producer', 'tt0114709'],
  ['nm0002653', 'Joe Johnston', '1950', N, 'director,art_department', 'tt0113497'],
  ['nm0001741', 'Bryan Singer', '1965', N, 'producer,director,writer', 'tt0114814'],
  ['nm0003160', 'Christopher McQuarrie', '1968', N, 'writer,producer,director', 'tt0114814'],
  ['nm0000228', 'Kevin Spacey', '1959', N, 'actor,producer', 'tt0114814'],
  ['nm0000321', 'Gabriel Byrne', '1950', N, 'actor,producer', 'tt0114814'],
  ['nm0000466', 'Jean-Pierre Jeunet', '1953', N, 'director,writer', 'tt0112682'],
  ['nm0000399', 'David Fincher', '1962', N, 'director,producer', 'tt0114369'],
  ['nm0000520', 'Michael Mann', '1943', N, 'producer,writer,director', 'tt0113277'],
  ['nm0000158', 'Tom Hanks', '1956', N, 'actor,producer', 'tt0114709'],
  ['nm0000741', 'Tim Allen', '1953', N, 'actor,producer', 'tt0114709'],
  ['nm0000245', 'Robin Williams', '1951', '2014', 'actor,comedian', 'tt0113497'],
  ['nm0000199', 'Al Pacino', '1940', N, 'actor,producer', 'tt0113277'],
  ['nm0000134', 'Robert De Niro', '1943', N, 'actor,producer', 'tt0113277'],
  ['nm0000151', 'Morgan Freeman', '1937', N, 'actor,producer', 'tt0114369'],
  ['nm0000093', 'Brad Pitt', '1963', N, 'actor,producer', 'tt0114369'],
];
const RATINGS = [
  ['tt0114709', '8.3', '1100000'],
  ['tt0113497', '7.1', '390000'],
  ['tt0114814', '8.5', '1150000'],
  ['tt0112682', '7.5', '70000'],
  ['tt0114369', '8.6', '1800000'],
  ['tt0110877', '7.7', '40000'],
  ['tt0113247', '8.1', '190000'],
  ['tt0113277', '8.3', '750000'],
  ['tt0013442', '7.8', '110000'],
  ['tt9900001', '5.0', '12'],
];
const ROWS: Record<ImdbDump, string[][]> = {
  basics: BASICS,
  crew: CREW,
  principals: PRINCIPALS,
  names: NAMES,
  ratings: RATINGS,
};

function dumpText(dump: ImdbDump, rows = ROWS[dump]): string {
  return tsv(IMDB_DUMPS[dump].columns, rows);
}

/** A temp data dir: the real datasets linked in (never copied), `imdb/` holding the gzipped fixtures. */
function dataDirWithImdb(overrides: Partial<Record<ImdbDump, string | null>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'reelab-imdb-'));
  for (const ds of ['ml-100k', 'ml-latest-small'])
    if (existsSync(join(realDataDir(), ds))) symlinkSync(join(realDataDir(), ds), join(dir, ds));
  mkdirSync(join(dir, 'imdb'));
  for (const dump of Object.keys(IMDB_DUMPS) as ImdbDump[]) {
    const text = dump in overrides ? overrides[dump] : dumpText(dump);
    if (text === null || text === undefined) continue;
    writeFileSync(join(dir, 'imdb', IMDB_DUMPS[dump].file), gzipSync(text));
  }
  return dir;
}

const created: string[] = [];
function tempDataDir(overrides: Partial<Record<ImdbDump, string | null>> = {}): string {
  const dir = dataDirWithImdb(overrides);
  created.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

const rowOf = (j: ImdbJoin, movieId: number) => j.movieIds.indexOf(movieId);

describe('IMDb title matching (pure)', () => {
  it('normalises MovieLens titles: articles, alternative titles, diacritics, punctuation', () => {
    expect(movieLensTitleKeys('Usual Suspects, The (1995)')[0]).toBe('the usual suspects');
    expect(movieLensTitleKeys('City of Lost Children, The (Cité des enfants perdus, La) (1995)')).toEqual(
      expect.arrayContaining(['the city of lost children', 'la cite des enfants perdus']),
    );
    expect(movieLensTitleKeys('Seven (a.k.a. Se7en) (1995)')).toContain('se7en');
    expect(movieLensTitleKeys('Postino, Il (1994)')[0]).toBe('il postino');
    expect(moveArticleToFront("Ours, L'")).toBe("L'Ours");
    expect(moveArticleToFront('Boot, Das')).toBe('Das Boot');
    expect(moveArticleToFront('Mujer, Una')).toBe('Una Mujer');
    expect(normaliseTitle("L'Âge d'or")).toBe('lage dor');
    expect(normaliseTitle('Face/Off')).toBe('face off');
    expect(normaliseTitle('Mr. & Mrs. Smith')).toBe('mr and mrs smith');
    expect(tconstOf(114709)).toBe('tt0114709');
    expect(tconstOf(10872600)).toBe('tt10872600');
  });

  it('prefers the exact year, falls back to ±1, resolves ties by votes and reports them', () => {
    const c = (
      tconst: string,
      title: string,
      year: number,
      votes: number,
      titleType = 'movie',
    ): TitleCandidate => ({
      tconst,
      primaryTitle: title,
      originalTitle: null,
      titleType,
      year,
      votes,
    });
    const candidates = [
      c('tt01', 'Alpha', 2000, 10),
      c('tt02', 'Alpha', 2001, 999),
      c('tt03', 'Beta', 2001, 5),
      c('tt04', 'Gamma', 1990, 5),
      c('tt05', 'Gamma', 1990, 50, 'video'),
      c('tt06', 'Delta', 1990, 5, 'tvSeries'),
    ];
    const m = matchTitles(
      [
        { title: 'Alpha (2000)', year: 2000 },
        { title: 'Beta (2000)', year: 2000 },
        { title: 'Gamma (1990)', year: 1990 },
        { title: 'Delta (1990)', year: 1990 },
        { title: 'Beta (1998)', year: 1998 },
      ],
      candidates,
    );
    expect(m.map((x) => x.candidate)).toEqual([0, 2, 4, -1, -1]);
    expect(m.map((x) => x.route)).toEqual(['title-year', 'title-year±1', 'ambiguous', null, null]);
    expect(m[2]!.tied).toBe(2);
  });
});

describe.runIf(HAS_ML_LATEST_SMALL)('IMDb join on real ml-latest-small (links.csv)', () => {
  let dataDir: string;
  let first: ImdbJoin;
  beforeAll(async () => {
    dataDir = tempDataDir();
    first = await loadImdb('ml-latest-small', { dataDir, progress: 'none' });
  }, 60_000);

  it('Toy Story (movieId 1) gets runtime 81, year 1995, director John Lasseter', () => {
    const r = rowOf(first, 1);
    expect(first.tconsts[r]).toBe('tt0114709');
    expect(first.routes[r]).toBe('links');
    expect(first.runtimes[r]).toBe(81);
    expect(first.years[r]).toBe(1995);
    expect(peopleOf(first, first.directors, r)).toEqual(['John Lasseter']);
    expect(peopleOf(first, first.writers, r)).toEqual(['John Lasseter', 'Pete Docter', 'Andrew Stanton']);
    expect(peopleOf(first, first.actors, r)).toEqual(['Tom Hanks', 'Tim Allen']);
    expect(first.ratings[r]).toBeCloseTo(8.3, 5);
    expect(first.votes[r]).toBe(1_100_000);
  });

  it('counts the routes: links, and a dangling link that went on to the title match (±1)', () => {
    expect(first.stats.movies).toBe(first.size);
    expect(first.stats.byRoute).toEqual({ links: 9, titleYear: 0, titleYearNear: 1, ambiguousResolved: 0 });
    expect(first.stats.matched).toBe(10);
    expect(first.stats.danglingLinks).toBe(first.size - 9);
    expect(first.tconsts[rowOf(first, 82)]).toBe('tt9900002');
    // \N runtime and no ratings row: NaN and 0, not 0 minutes.
    expect(Number.isNaN(first.runtimes[rowOf(first, 82)]!)).toBe(true);
    expect(first.votes[rowOf(first, 82)]).toBe(0);
    // \N directors and writers: empty lists.
    expect(peopleOf(first, first.directors, rowOf(first, 58))).toEqual([]);
    expect(first.tconsts[rowOf(first, 3)]).toBe('');
  });

  it('a second load reads the cache instead of scanning', async () => {
    expect(first.cache.hit).toBe(false);
    expect(readdirSync(join(dataDir, 'imdb', '.cache'))).toHaveLength(1);
    const again = await loadImdb('ml-latest-small', { dataDir, progress: 'none' });
    expect(again.cache.hit).toBe(true);
    expect(again.cache.file).toBe(first.cache.file);
    expect(again.seconds).toBeLessThan(first.seconds);
    expect(again.stats).toEqual(first.stats);
    expect(Array.from(again.actors.indices)).toEqual(Array.from(first.actors.indices));
    expect(Array.from(again.runtimes)).toEqual(Array.from(first.runtimes));
    expect(again.people).toEqual(first.people);
  });
});

describe.runIf(HAS_ML100K)('IMDb join on real ml-100k (title + year, no links)', () => {
  let j: ImdbJoin;
  beforeAll(async () => {
    j = await loadImdb('ml-100k', { dataDir: tempDataDir(), progress: 'none' });
  }, 60_000);

  it('"Usual Suspects, The (1995)" gets Bryan Singer and Kevin Spacey, billing order kept', () => {
    const r = rowOf(j, 12);
    expect(j.tconsts[r]).toBe('tt0114814');
    expect(j.routes[r]).toBe('title-year');
    expect(peopleOf(j, j.directors, r)).toEqual(['Bryan Singer']);
    expect(peopleOf(j, j.writers, r)).toEqual(['Christopher McQuarrie']);
    expect(peopleOf(j, j.actors, r)).toEqual(['Kevin Spacey', 'Gabriel Byrne']);
  });

  it('matches articles, alternative and original titles; counts exact, ±1 and ambiguous', () => {
    const expected: Record<number, [string, string]> = {
      1: ['tt0114709', 'title-year'], // Toy Story (1995)
      11: ['tt0114369', 'title-year'], // Seven (Se7en) (1995)
      14: ['tt0110877', 'title-year'], // Postino, Il (1994) ↔ originalTitle "Il postino"
      19: ['tt9900002', 'title-year±1'], // Antonia's Line (1995) ↔ the invented 1996 record
      273: ['tt0113277', 'ambiguous'], // Heat (1995): the movie (750k votes) over the invented TV movie
      675: ['tt0013442', 'title-year'], // Nosferatu (Nosferatu, eine Symphonie des Grauens) (1922)
      755: ['tt0113497', 'title-year'], // Jumanji (1995)
      919: ['tt0112682', 'title-year'], // City of Lost Children, The (1995)
      1097: ['tt0113247', 'title-year'], // Hate (Haine, La) (1995)
    };
    for (const [id, [tconst, route]] of Object.entries(expected)) {
      const r = rowOf(j, Number(id));
      expect([id, j.tconsts[r], j.routes[r]]).toEqual([id, tconst, route]);
    }
    expect(j.stats.byRoute).toEqual({ links: 0, titleYear: 8, titleYearNear: 1, ambiguousResolved: 1 });
    expect(j.stats.matched).toBe(10);
    expect(j.stats.unmatched).toBe(1682 - 10);
    expect(j.runtimes[rowOf(j, 273)]).toBe(170);
    // A tvSeries never matches by title, whatever its name and year.
    expect(j.titleTypes.filter((t) => t === 'tvSeries')).toEqual([]);
  });
});

describe.runIf(HAS_ML_LATEST_SMALL && HAS_ML100K)('IMDb columns attached to the movie catalogue', () => {
  let dataDir: string;
  let plainSmall: MovieCatalogue;
  let small: MovieCatalogue;
  let k100: MovieCatalogue;
  beforeAll(async () => {
    dataDir = tempDataDir();
    plainSmall = loadDataset('ml-latest-small', { dataDir }).movies;
    small = await attachImdb(plainSmall, 'ml-latest-small', { dataDir, progress: 'none' });
    k100 = await attachImdb(loadDataset('ml-100k', { dataDir }).movies, 'ml-100k', {
      dataDir,
      progress: 'none',
    });
  }, 60_000);

  it('ml-latest-small: Toy Story has runtime 81, John Lasseter, its cast in billing order', () => {
    const r = rowOfMovie(small, 1);
    expect(small.tconsts![r]).toBe('tt0114709');
    expect(small.runtimes![r]).toBe(81);
    expect(small.imdbYears![r]).toBe(1995);
    expect(small.imdbRatings![r]).toBeCloseTo(8.3, 5);
    expect(small.imdbVotes![r]).toBe(1_100_000);
    expect(peopleNamesOf(small, small.directors, r)).toEqual(['John Lasseter']);
    expect(peopleNamesOf(small, small.writers, r)).toEqual([
      'John Lasseter',
      'Pete Docter',
      'Andrew Stanton',
    ]);
    expect(peopleNamesOf(small, small.actors, r)).toEqual(['Tom Hanks', 'Tim Allen']);
    const lasseter = small.directors!.indices[small.directors!.indptr[r]!]!;
    expect(small.people!.nconsts[lasseter]).toBe('nm0005124');
  });

  it('ml-100k: "Usual Suspects, The (1995)" has Bryan Singer, then Kevin Spacey first in the cast', () => {
    const r = rowOfMovie(k100, 12);
    expect(k100.titles[r]).toBe('Usual Suspects, The (1995)');
    expect(k100.tconsts![r]).toBe('tt0114814');
    expect(peopleNamesOf(k100, k100.directors, r)).toEqual(['Bryan Singer']);
    expect(peopleNamesOf(k100, k100.actors, r)).toEqual(['Kevin Spacey', 'Gabriel Byrne']);
    expect(k100.runtimes![r]).toBe(106);
  });

  it('columns are typed, one entry per row; unmatched rows have NaN runtime and empty lists', () => {
    for (const c of [small, k100]) {
      expect(c.runtimes).toBeInstanceOf(Float32Array);
      expect(c.imdbRatings).toBeInstanceOf(Float32Array);
      expect(c.imdbVotes).toBeInstanceOf(Int32Array);
      expect(c.imdbYears).toBeInstanceOf(Int16Array);
      for (const lists of [c.directors!, c.writers!, c.actors!]) {
        expect(lists.indptr).toBeInstanceOf(Int32Array);
        expect(lists.indptr).toHaveLength(c.size + 1);
      }
      expect(c.tconsts).toHaveLength(c.size);
      expect(c.tconsts!.filter((t) => t)).toHaveLength(10);
    }
    for (const [c, id] of [
      [small, 3],
      [k100, 2],
    ] as const) {
      const r = rowOfMovie(c, id);
      expect(c.tconsts![r]).toBe('');
      expect(Number.isNaN(c.runtimes![r]!)).toBe(true);
      expect(Number.isNaN(c.imdbRatings![r]!)).toBe(true);
      expect(c.imdbVotes![r]).toBe(0);
      expect(peopleNamesOf(c, c.directors, r)).toEqual([]);
      expect(peopleNamesOf(c, c.writers, r)).toEqual([]);
      expect(peopleNamesOf(c, c.actors, r)).toEqual([]);
    }
    // Matched, but \N runtime and no ratings row.
    const antonia = rowOfMovie(small, 82);
    expect(small.tconsts![antonia]).toBe('tt9900002');
    expect(Number.isNaN(small.runtimes![antonia]!)).toBe(true);
  });

  it('leaves the rest of the catalogue (and the input) as loaded, and structured-clones', () => {
    const again = loadDataset('ml-latest-small', { dataDir }).movies;
    expect(plainSmall).toEqual(again);
    expect(plainSmall.runtimes).toBeUndefined();
    const {
      tconsts,
      people,
      directors,
      writers,
      actors,
      runtimes,
      imdbYears,
      imdbRatings,
      imdbVotes,
      ...rest
    } = small;
    expect(rest).toEqual(again);
    const clone = structuredClone(small);
    expect(peopleNamesOf(clone, clone.actors, rowOfMovie(clone, 1))).toEqual(['Tom Hanks', 'Tim Allen']);
  });

  it('matches rows by movieId and refuses a join of another movies file', async () => {
    const join100k = await loadImdb('ml-100k', { dataDir, progress: 'none' });
    expect(join100k.cache.hit).toBe(true);
    expect(() => withImdbJoin(plainSmall, join100k)).toThrow(ConfigError);
    expect(() => withImdbJoin(plainSmall, join100k)).toThrow(
      /IMDb join of ml-100k \(1682 movies\) does not match this catalogue \(9742 movies\): \d+ catalogue movies are not in it \(movieId /,
    );
    // A catalogue of only some of the movies (rows shifted against the join's) still lines up by movieId.
    const ml100k = loadDataset('ml-100k', { dataDir });
    const joinRows = join100k.movieIds.indexOf(12);
    const part = loadCatalogue('ml-100k', ml100k.ratings.itemIds, { dataDir });
    const sub = withImdbJoin(
      { ...part, size: 2, movieIds: Int32Array.of(2, 12), titles: ['GoldenEye (1995)', part.titles[11]!] },
      join100k,
    );
    expect(joinRows).toBe(11);
    expect(sub.tconsts).toEqual(['', 'tt0114814']);
    expect(peopleNamesOf(sub, sub.actors, 1)).toEqual(['Kevin Spacey', 'Gabriel Byrne']);
    expect(Array.from(sub.actors!.indptr)).toEqual([0, 0, 2]);
  });

  it('the movie feature table gains runtime, IMDb rating, votes and people counts', () => {
    const ratings = loadDataset('ml-latest-small', { dataDir }).ratings;
    const plain = movieFeatureMatrix(ratings, plainSmall);
    const withImdb = movieFeatureMatrix(ratings, small);
    expect(withImdb.columns).toEqual([
      ...plain.columns,
      'runtime',
      'runtime_known',
      'imdb_rating',
      'imdb_rating_known',
      'imdb_votes',
      'directors',
      'actors',
    ]);
    const w = withImdb.columns.length;
    const r = small.itemIndex[rowOfMovie(small, 1)]!;
    const row = Array.from(withImdb.data.subarray(r * w, (r + 1) * w));
    expect(row.slice(0, plain.columns.length)).toEqual(
      Array.from(plain.data.subarray(r * plain.columns.length, (r + 1) * plain.columns.length)),
    );
    expect(row.slice(plain.columns.length).map((v) => Math.round(v * 10) / 10)).toEqual([
      81, 1, 8.3, 1, 1_100_000, 1, 2,
    ]);
    const unmatched = small.itemIndex[rowOfMovie(small, 3)]!;
    expect(Array.from(withImdb.data.subarray((unmatched + 1) * w - 7, (unmatched + 1) * w))).toEqual([
      0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('SideInformation({ imdb: true }) carries the columns after prepare(), and asks for it before', async () => {
    const ds = loadDataset('ml-100k', { dataDir });
    const side = new SideInformation('ml-100k', ds.ratings, { dataDir, imdb: true });
    expect(() => side.catalogue()).toThrow(/call `await side\.prepare\(\)` before catalogue\(\)/);
    await side.prepare();
    const c = side.fitInputs(new Set(['catalogue'])).catalogue!;
    expect(peopleNamesOf(c, c.directors, rowOfMovie(c, 12))).toEqual(['Bryan Singer']);
    // Without the option nothing changes, IMDb folder or not.
    const plain = new SideInformation('ml-100k', ds.ratings, { dataDir });
    await plain.prepare();
    expect(plain.catalogue()).toEqual(ds.movies);
  });
});

describe('a catalogue without IMDb data is unchanged', () => {
  it.runIf(HAS_ML100K)(
    'no <data dir>/imdb/: attachImdb and SideInformation({ imdb: true }) give the plain catalogue',
    async () => {
      const dataDir = realDataDir();
      expect(existsSync(join(dataDir, 'imdb'))).toBe(false);
      const ds = loadDataset('ml-100k', { dataDir });
      const attached = await attachImdb(ds.movies, 'ml-100k', { dataDir });
      expect(attached).toBe(ds.movies);
      expect(attached).toEqual(loadDataset('ml-100k', { dataDir }).movies);
      expect(attached.directors).toBeUndefined();
      const side = new SideInformation('ml-100k', ds.ratings, { dataDir, imdb: true });
      await side.prepare();
      expect(side.catalogue()).toEqual(ds.movies);
    },
  );

  it('a synthetic dataset has no IMDb data', async () => {
    const ds = loadDataset('synthetic:2000', { seed: 3 });
    const dataDir = tempDataDir();
    expect(await attachImdb(ds.movies, 'synthetic:2000', { dataDir })).toEqual(
      loadDataset('synthetic:2000', { seed: 3 }).movies,
    );
  });
});

describe('IMDb dumps: bad and missing files', () => {
  it.runIf(HAS_ML100K)('a row with the wrong number of fields fails naming file and line', async () => {
    const bad = [...CREW.slice(0, 2), ['tt0114814', 'nm0001741'], ...CREW.slice(3)];
    const dataDir = tempDataDir({ crew: dumpText('crew', bad) });
    const err = await loadImdb('ml-100k', { dataDir, progress: 'none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).file).toBe(join(dataDir, 'imdb', 'title.crew.tsv.gz'));
    expect((err as DataError).line).toBe(4);
    expect(String((err as Error).message)).toMatch(
      /title\.crew\.tsv\.gz:4: expected 3 tab-separated fields \(tconst directors writers\), found 2/,
    );
  });

  it.runIf(HAS_ML100K)('a wrong header fails on line 1', async () => {
    const dataDir = tempDataDir({ ratings: 'tconst\tnumVotes\ntt0114709\t1\n' });
    await expect(loadImdb('ml-100k', { dataDir, progress: 'none' })).rejects.toThrow(
      /title\.ratings\.tsv\.gz:1: expected the header "tconst\\taverageRating\\tnumVotes"/,
    );
  });

  it.runIf(HAS_ML100K)('a missing dump says which file and how to get it', async () => {
    const dataDir = tempDataDir({ names: null });
    await expect(loadImdb('ml-100k', { dataDir, progress: 'none' })).rejects.toThrow(
      /name\.basics\.tsv\.gz is missing: run `reelab data fetch imdb`.*https:\/\/datasets\.imdbws\.com\/name\.basics\.tsv\.gz/,
    );
  });
});

// ---- fetch and describe through the real command --------------------------------------------------------

const bin = join(__dirname, '..', '..', 'bin', 'reelab.js');
function reelab(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: process.env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('reelab data fetch imdb (local HTTP server)', () => {
  let server: Server;
  let base: string;
  const bodies = new Map<string, Buffer>();
  for (const dump of Object.keys(IMDB_DUMPS) as ImdbDump[])
    bodies.set(`/${IMDB_DUMPS[dump].file}`, gzipSync(dumpText(dump)));
  const good = bodies.get('/title.crew.tsv.gz')!;
  // Same length, the gzip trailer's CRC-32 flipped: only a full decompression notices.
  const badCrc = Buffer.from(good);
  badCrc[badCrc.length - 8] = badCrc[badCrc.length - 8]! ^ 0xff;
  bodies.set('/badcrc/title.crew.tsv.gz', badCrc);
  bodies.set('/short/title.crew.tsv.gz', good.subarray(0, good.length - 12));
  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = bodies.get(req.url ?? '');
      if (!body) res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('downloads the five dumps with progress, checks size, gzip and header, then skips them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'reelab-imdb-fetch-'));
    created.push(dataDir);
    const r = await reelab(['data', 'fetch', 'imdb', '--data-dir', dataDir, '--url', base, '--json']);
    expect(r.stderr).toMatch(/fetching imdb title\.basics\.tsv\.gz .*100%/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.downloaded).toBe(true);
    expect(out.files.map((f: { file: string }) => f.file).sort()).toEqual(
      Object.values(IMDB_DUMPS)
        .map((d) => d.file)
        .sort(),
    );
    expect(out.files[0].verified).toEqual(['size', 'gzip CRC-32 and length', 'header']);
    expect(out.terms).toMatch(/non-commercial/);
    expect(readdirSync(join(dataDir, 'imdb')).sort()).toEqual(
      out.files.map((f: { file: string }) => f.file).sort(),
    );
    const again = await reelab(['data', 'fetch', 'imdb', '--data-dir', dataDir, '--url', base]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/title\.crew\.tsv\.gz: already present/);
  });

  it('refuses a corrupt (CRC) or truncated gzip and leaves nothing behind', async () => {
    for (const prefix of ['badcrc', 'short']) {
      const dataDir = mkdtempSync(join(tmpdir(), 'reelab-imdb-fetch-'));
      created.push(dataDir);
      await expect(fetchImdb({ dataDir, baseUrl: `${base}/${prefix}`, dumps: ['crew'] })).rejects.toThrow(
        /title\.crew\.tsv\.gz: corrupt gzip download/,
      );
      expect(readdirSync(join(dataDir, 'imdb'))).toEqual([]);
    }
  });

  it('the help names the IMDb terms', async () => {
    const r = await reelab(['data', 'fetch', '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/personal and non-commercial use only/);
  });
});

describe.runIf(HAS_ML100K)('reelab data describe with IMDb dumps present', () => {
  it('reports the match counts by route and people per movie, with a progress bar on stderr', async () => {
    const dataDir = tempDataDir();
    const r = await reelab(['data', 'describe', '--dataset', 'ml-100k', '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/IMDb join ml-100k/);
    const out = JSON.parse(r.stdout);
    expect(out.items).toBe(1682);
    expect(out.imdb).toMatchObject({
      movies: 1682,
      matched: 10,
      byRoute: { links: 0, titleYear: 8, titleYearNear: 1, ambiguousResolved: 1 },
      cacheHit: false,
    });
    expect(out.imdb.peoplePerMovie.directors).toBeCloseTo(6 / 10, 5);
    const plain = await reelab(['data', 'describe', '--dataset', 'ml-100k', '--data-dir', dataDir]);
    expect(plain.stdout).toMatch(/IMDb: 10\/1682 movies matched \(links 0, title\+year 8, title\+year±1 1/);
  }, 60_000);

  it('without <data-dir>/imdb/ the summary says imdb: null', async () => {
    const r = await reelab([
      'data',
      'describe',
      '--dataset',
      'ml-100k',
      '--data-dir',
      realDataDir(),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).imdb).toBeNull();
  });
});
