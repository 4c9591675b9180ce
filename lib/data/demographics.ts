import { join } from 'node:path';
import { DataError } from '../util/errors';
import type { MovieLensSpec } from './movielens';
import { parseDelimited, readText } from './text';

/** ml-1m occupation codes (its README). */
export const ML1M_OCCUPATIONS = [
  'other',
  'academic/educator',
  'artist',
  'clerical/admin',
  'college/grad student',
  'customer service',
  'doctor/health care',
  'executive/managerial',
  'farmer',
  'homemaker',
  'K-12 student',
  'lawyer',
  'programmer',
  'retired',
  'sales/marketing',
  'scientist',
  'self-employed',
  'technician/engineer',
  'tradesman/craftsman',
  'unemployed',
  'writer',
];

/**
 * User demographics (ml-100k u.user, ml-1m users.dat), in ascending userId order. `ages` are years in ml-100k
 * and GroupLens' age-group codes (1, 18, 25, 35, 45, 50, 56) in ml-1m; `genders` 0 = F, 1 = M.
 */
export interface UserTable {
  readonly size: number;
  readonly userIds: Int32Array;
  readonly ages: Int32Array;
  readonly genders: Uint8Array;
  readonly occupations: Int32Array;
  readonly occupationNames: string[];
  readonly zips: string[];
  readonly ageIsGroup: boolean;
  readonly file: string;
}

export function readUsers(dir: string, spec: MovieLensSpec): UserTable {
  if (!spec.usersFile)
    throw new DataError(join(dir, 'users'), undefined, `${spec.name} has no user demographics`);
  const file = join(dir, spec.usersFile);
  const ml1m = spec.usersFile === 'users.dat';
  const rows = parseDelimited(readText(file, 'latin1'), ml1m ? '::' : '|', file);
  const occupationNames = ml1m ? [...ML1M_OCCUPATIONS] : [];
  const occIndex = new Map<string, number>(occupationNames.map((o, i) => [o, i]));
  const parsed: Array<{ id: number; age: number; gender: number; occ: number; zip: string }> = [];
  const int = (v: string, line: number, what: string) => {
    if (!/^\d+$/.test(v))
      throw new DataError(file, line, `${what} "${v.slice(0, 40)}" is not a positive integer`);
    return Number(v);
  };
  for (const { line, fields } of rows) {
    if (fields.length !== 5) throw new DataError(file, line, `expected 5 fields, found ${fields.length}`);
    const [idText, a, b, c, zip] = fields as [string, string, string, string, string];
    const genderText = ml1m ? a : b;
    if (genderText !== 'F' && genderText !== 'M')
      throw new DataError(file, line, `gender "${genderText}" is not F or M`);
    let occ: number;
    if (ml1m) {
      occ = int(c, line, 'occupation');
      if (occ >= occupationNames.length) throw new DataError(file, line, `occupation code ${occ} is unknown`);
    } else {
      occ = occIndex.get(c) ?? occupationNames.length;
      if (occ === occupationNames.length) {
        occupationNames.push(c);
        occIndex.set(c, occ);
      }
    }
    parsed.push({
      id: int(idText, line, 'user id'),
      age: int(ml1m ? b : a, line, 'age'),
      gender: genderText === 'M' ? 1 : 0,
      occ,
      zip,
    });
  }
  parsed.sort((x, y) => x.id - y.id);
  for (let k = 1; k < parsed.length; k++)
    if (parsed[k]!.id === parsed[k - 1]!.id)
      throw new DataError(file, undefined, `duplicate user id ${parsed[k]!.id}`);
  return {
    size: parsed.length,
    userIds: Int32Array.from(parsed, (p) => p.id),
    ages: Int32Array.from(parsed, (p) => p.age),
    genders: Uint8Array.from(parsed, (p) => p.gender),
    occupations: Int32Array.from(parsed, (p) => p.occ),
    occupationNames,
    zips: parsed.map((p) => p.zip),
    ageIsGroup: ml1m,
    file,
  };
}
