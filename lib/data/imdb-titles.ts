/**
 * Title matching between MovieLens and IMDb for the releases without links.csv (ml-100k, ml-1m): MovieLens
 * titles ("Usual Suspects, The (1995)", "City of Lost Children, The (Cité des enfants perdus, La) (1995)") become
 * normalised keys ("the usual suspects", "the city of lost children", "la cite des enfants perdus") that are
 * compared with IMDb's primaryTitle and originalTitle normalised the same way, at the same year (else ±1).
 */

/** Articles MovieLens moves to the end of a title ("Usual Suspects, The"), English and the common foreign ones. */
const TRAILING_ARTICLES = [
  'The',
  'A',
  'An',
  'Les',
  'La',
  'Le',
  "L'",
  'Il',
  'Lo',
  'Gli',
  'Der',
  'Die',
  'Das',
  'Den',
  'Det',
  'Het',
  'De',
  'El',
  'Los',
  'Las',
  'Un',
  'Une',
  'Una',
  'Ein',
  'Eine',
];
const ARTICLE_AT_END = new RegExp(
  `^(.*\\S),\\s*(${TRAILING_ARTICLES.map((a) => a.replace("'", "['’]")).join('|')})$`,
  'i',
);

/**
 * Lower case, diacritics stripped, "&" → "and", apostrophes dropped, any other run of punctuation or spaces one
 * space: "L'Âge d'or" → "lage dor", "Face/Off" → "face off".
 */
export function normaliseTitle(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['’`´]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** "Usual Suspects, The" → "The Usual Suspects"; "Haine, La" → "La Haine"; "Ours, L'" → "L'Ours". */
export function moveArticleToFront(title: string): string {
  const m = ARTICLE_AT_END.exec(title.trim());
  if (!m) return title.trim();
  const article = m[2]!;
  return /['’]$/.test(article) ? `${article}${m[1]}` : `${article} ${m[1]}`;
}

/**
 * The normalised keys of a MovieLens title: the main title and every alternative title in parentheses, each with
 * its trailing article moved to the front, after dropping the trailing "(YYYY)". Distinct, main title first.
 */
export function movieLensTitleKeys(title: string): string[] {
  let rest = title.trim().replace(/\s*\(\d{4}(?:[–-]\d{0,4})?\)\s*$/, '');
  const variants: string[] = [];
  for (;;) {
    const m = /^(.*\S)\s*\(([^()]*)\)$/.exec(rest);
    if (!m) break;
    const alt = m[2]!.replace(/^(?:a\.k\.a\.|aka)\s+/i, '').trim();
    if (alt) variants.unshift(alt);
    rest = m[1]!;
  }
  variants.unshift(rest);
  const keys: string[] = [];
  for (const v of variants) {
    for (const form of [moveArticleToFront(v), v]) {
      const key = normaliseTitle(form);
      if (key && !keys.includes(key)) keys.push(key);
    }
  }
  return keys;
}

/** An IMDb title that a MovieLens title may match. */
export interface TitleCandidate {
  tconst: string;
  primaryTitle: string;
  originalTitle: string | null;
  titleType: string;
  year: number | null;
  votes: number;
}

/** How a MovieLens movie found its IMDb title. */
export type ImdbRoute = 'links' | 'title-year' | 'title-year±1' | 'ambiguous';

export interface TitleMatch {
  /** Index into the candidates, or -1. */
  candidate: number;
  route: Exclude<ImdbRoute, 'links'> | null;
  /** How many candidates were tied at the chosen tier (exact year, else ±1). */
  tied: number;
}

/** Title types a title match may land on (links are trusted whatever the type). */
export const TITLE_MATCH_TYPES = ['movie', 'tvMovie', 'video'] as const;

const TYPE_RANK: Record<string, number> = { movie: 0, tvMovie: 1, video: 2 };

/**
 * Matches movies by normalised title and year. A candidate shares one of the movie's keys (primaryTitle or
 * originalTitle) and is a movie, tvMovie or video; the exact year wins, a year off by one is the fallback. Several
 * at the chosen tier are resolved by the most-recent-of-same-titled rule, adapted to MovieLens (the year equal to MovieLens', then the
 * most votes; then movie before tvMovie before video, then the lowest tconst) and reported as 'ambiguous'.
 */
export function matchTitles(
  movies: ReadonlyArray<{ title: string; year: number | null }>,
  candidates: readonly TitleCandidate[],
): TitleMatch[] {
  const byKey = new Map<string, number[]>();
  candidates.forEach((c, i) => {
    if (!(c.titleType in TYPE_RANK) || c.year === null) return;
    const keys = new Set([normaliseTitle(c.primaryTitle)]);
    if (c.originalTitle) keys.add(normaliseTitle(c.originalTitle));
    for (const k of keys) {
      if (!k) continue;
      let list = byKey.get(k);
      if (!list) {
        list = [];
        byKey.set(k, list);
      }
      list.push(i);
    }
  });
  const better = (a: number, b: number) => {
    const ca = candidates[a]!;
    const cb = candidates[b]!;
    if (ca.votes !== cb.votes) return ca.votes > cb.votes;
    const ra = TYPE_RANK[ca.titleType]!;
    const rb = TYPE_RANK[cb.titleType]!;
    if (ra !== rb) return ra < rb;
    return tconstNumber(ca.tconst) < tconstNumber(cb.tconst);
  };
  return movies.map((m) => {
    if (m.year === null) return { candidate: -1, route: null, tied: 0 };
    const seen = new Set<number>();
    const exact: number[] = [];
    const near: number[] = [];
    for (const key of movieLensTitleKeys(m.title)) {
      for (const i of byKey.get(key) ?? []) {
        if (seen.has(i)) continue;
        seen.add(i);
        const d = Math.abs(candidates[i]!.year! - m.year);
        if (d === 0) exact.push(i);
        else if (d === 1) near.push(i);
      }
    }
    const tier = exact.length > 0 ? exact : near;
    if (tier.length === 0) return { candidate: -1, route: null, tied: 0 };
    let best = tier[0]!;
    for (const i of tier) if (better(i, best)) best = i;
    const route = tier.length > 1 ? 'ambiguous' : exact.length > 0 ? 'title-year' : 'title-year±1';
    return { candidate: best, route, tied: tier.length };
  });
}

/** IMDb title id of a links.csv imdbId: 114709 → "tt0114709" (7 digits, more when longer). */
export function tconstOf(imdbId: number): string {
  return `tt${String(imdbId).padStart(7, '0')}`;
}

function tconstNumber(tconst: string): number {
  return Number(tconst.slice(2));
}
