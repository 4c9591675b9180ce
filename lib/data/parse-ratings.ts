import { DataError } from '../util/errors';
import { hasQuote, parseInLineChunks } from './line-chunks';
import { splitCsvLine, unquotedEquals } from './text';

/** How a ratings file is laid out. */
export interface RatingsFormat {
  /** Field separator: '\t' (u.data), '::' (ratings.dat) or ',' (ratings.csv). */
  delimiter: '\t' | '::' | ',';
  /** Expected header line, checked exactly (e.g. 'userId,movieId,rating,timestamp'); null when there is none. */
  header: string | null;
  /** Allowed rating values: min..max in steps of `step`. */
  scale: { min: number; max: number; step: number };
}

/** Raw columns as read from a ratings file (external ids, file order). */
export interface RawRatings {
  users: Int32Array;
  items: Int32Array;
  ratings: Float32Array;
  timestamps: Int32Array;
  /** 1-based line number of the first data row (the line after the header, if any). */
  firstLine: number;
  file: string;
  /** Largest user / item id seen (lets the id maps be built without sorting). */
  maxUser?: number;
  maxItem?: number;
}

const NL = 10;
const CR = 13;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;
const CHUNK = 1 << 22;

/**
 * Reads a ratings file with a hand-written byte parser into typed arrays, checking every field. Any malformed
 * row raises a DataError naming the file and line: nothing is skipped silently. Reads in 16 MB chunks so peak
 * memory stays close to the final arrays (4 bytes per column per rating).
 *
 * Accepts what common tools write: a UTF-8 byte-order mark (skipped once before the first chunk), LF or CRLF,
 * no final newline, trailing blank lines, and — for ',' files — RFC 4180 quoting (`"userId","movieId",…` as
 * written by R's write.csv or Python's csv.QUOTE_ALL). Quoted rows take the checking path, plain rows the fast one.
 */
export function readRatingsFile(file: string, format: RatingsFormat): RawRatings {
  return parseInLineChunks(
    file,
    {
      chunkBytes: CHUNK,
      emptyReason: 'file is empty (expected ratings rows)',
      longLineReason: 'line longer than 64 kB: not a ratings file?',
    },
    (size) => new RatingsParser(file, format, size),
  ).finish();
}

const RATING_FIELDS = ['user id', 'item id', 'rating', 'timestamp'];

function countNewlines(buf: Buffer, from: number, end: number): number {
  let n = 0;
  for (let i = from; i < end; i++) if (buf[i] === NL) n++;
  return n;
}

class RatingsParser {
  line = 1;
  private n = 0;
  private users: Int32Array;
  private items: Int32Array;
  private ratings: Float32Array;
  private timestamps: Int32Array;
  private headerPending: boolean;
  private readonly delim: number;
  private readonly delimLength: number;
  private readonly firstLine: number;
  /** ',' files are CSV: RFC 4180 quotes are syntax there (in '\t' and '::' files a quote is just a bad byte). */
  private readonly csv: boolean;

  constructor(
    private readonly file: string,
    private readonly format: RatingsFormat,
    fileSize: number,
  ) {
    // Shortest plausible row is ~16 bytes ("1\t1\t5\t881250949\n"); overshoot a little and grow if needed.
    const capacity = Math.max(1024, Math.ceil(fileSize / 18));
    this.users = new Int32Array(capacity);
    this.items = new Int32Array(capacity);
    this.ratings = new Float32Array(capacity);
    this.timestamps = new Int32Array(capacity);
    this.headerPending = format.header !== null;
    this.delim = format.delimiter.charCodeAt(0);
    this.delimLength = format.delimiter.length;
    this.firstLine = format.header !== null ? 2 : 1;
    this.csv = format.delimiter === ',';
  }

  private fail(reason: string): never {
    throw new DataError(this.file, this.line, reason);
  }

  private grow(): void {
    const cap = Math.ceil(this.users.length * 1.25) + 1024;
    const grow32 = <T extends Int32Array | Float32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.users = grow32(this.users, (n) => new Int32Array(n));
    this.items = grow32(this.items, (n) => new Int32Array(n));
    this.ratings = grow32(this.ratings, (n) => new Float32Array(n));
    this.timestamps = grow32(this.timestamps, (n) => new Int32Array(n));
  }

  /** Parses the complete lines in buf[0, end); `atEof` allows a last line without a newline. */
  parse(buf: Buffer, end: number, atEof: boolean): void {
    let p = 0;
    if (this.blankLine > 0 && !this.onlyBlankLinesFollow(buf, 0, end)) {
      this.line = this.blankLine;
      this.fail('empty line in the middle of the file');
    }
    while (p < end) {
      if (!this.headerPending) {
        const next = this.fastRow(buf, p, end);
        if (next > 0) {
          this.line++;
          p = next;
          continue;
        }
      }
      let lineEnd = buf.indexOf(NL, p);
      if (lineEnd < 0 || lineEnd >= end) {
        if (!atEof) this.fail('internal: incomplete line');
        lineEnd = end;
      }
      let contentEnd = lineEnd;
      if (contentEnd > p && buf[contentEnd - 1] === CR) contentEnd--;
      if (this.headerPending) {
        this.checkHeader(buf.toString('utf8', p, contentEnd));
        this.headerPending = false;
      } else if (contentEnd === p) {
        if (!this.onlyBlankLinesFollow(buf, lineEnd + 1, end))
          this.fail('empty line in the middle of the file');
        // Blank lines may end the file; the next chunk (if any) must not hold another row.
        if (this.blankLine === 0) this.blankLine = this.line;
        this.line += countNewlines(buf, p, end);
        return;
      } else {
        this.parseRow(buf, p, contentEnd);
      }
      this.line++;
      p = lineEnd + 1;
    }
  }

  /**
   * The common case without a per-line indexOf: digits, delimiter, digits, delimiter, rating, delimiter, digits,
   * [CR] LF. Returns the position after the newline, or -1 to let the checking path parse (or reject) the line.
   */
  private fastRow(buf: Buffer, p: number, end: number): number {
    const delim = this.delim;
    const double = this.delimLength === 2;
    let c = buf[p]!;
    if (c < ZERO || c > ZERO + 9) return -1;
    let user = 0;
    do {
      user = user * 10 + (c - ZERO);
      c = buf[++p]!;
    } while (c >= ZERO && c <= ZERO + 9 && p < end);
    if (c !== delim || (double && buf[++p] !== delim)) return -1;
    c = buf[++p]!;
    if (c < ZERO || c > ZERO + 9) return -1;
    let item = 0;
    do {
      item = item * 10 + (c - ZERO);
      c = buf[++p]!;
    } while (c >= ZERO && c <= ZERO + 9 && p < end);
    if (c !== delim || (double && buf[++p] !== delim)) return -1;
    c = buf[++p]!;
    if (c < ZERO || c > ZERO + 9) return -1;
    let rating = c - ZERO;
    c = buf[++p]!;
    if (c === DOT) {
      c = buf[++p]!;
      if (c < ZERO || c > ZERO + 9) return -1;
      rating += (c - ZERO) / 10;
      c = buf[++p]!;
    }
    if (c !== delim || (double && buf[++p] !== delim)) return -1;
    c = buf[++p]!;
    if (c < ZERO || c > ZERO + 9) return -1;
    let ts = 0;
    do {
      ts = ts * 10 + (c - ZERO);
      c = buf[++p]!;
    } while (c >= ZERO && c <= ZERO + 9 && p < end);
    if (c === CR) c = buf[++p]!;
    if (c !== NL || p >= end) return -1;
    if (user > 2147483647 || item > 2147483647 || ts > 2147483647) return -1;
    const { min, max, step } = this.format.scale;
    if (rating < min || rating > max) return -1;
    const steps = (rating - min) / step;
    if (Math.abs(steps - Math.round(steps)) > 1e-6) return -1;
    if (this.n === this.users.length) this.grow();
    const i = this.n++;
    this.users[i] = user;
    this.items[i] = item;
    this.ratings[i] = rating;
    this.timestamps[i] = ts;
    if (user > this.maxUser) this.maxUser = user;
    if (item > this.maxItem) this.maxItem = item;
    return p + 1;
  }

  maxUser = 0;
  maxItem = 0;

  private onlyBlankLinesFollow(buf: Buffer, from: number, end: number): boolean {
    for (let i = from; i < end; i++) if (buf[i] !== NL && buf[i] !== CR) return false;
    return true;
  }

  /** Line number of a blank line seen at the end of a chunk (0: none); a row after it is an error. */
  private blankLine = 0;

  private checkHeader(text: string): void {
    if (text !== this.format.header && !(this.csv && unquotedEquals(text, this.format.header))) {
      const looksLikeData = /^\d/.test(text);
      this.fail(
        looksLikeData
          ? `missing header line: expected "${this.format.header}", found a data row`
          : `unexpected header "${text.slice(0, 80)}": expected "${this.format.header}"`,
      );
    }
  }

  private parseRow(buf: Buffer, start: number, end: number): void {
    if (this.csv && hasQuote(buf, start, end)) {
      this.parseQuotedRow(buf, start, end);
      return;
    }
    if (this.n === this.users.length) this.grow();
    let p = start;
    // user id
    let user = 0;
    let digits = 0;
    while (p < end) {
      const c = buf[p]!;
      if (c < ZERO || c > ZERO + 9) break;
      user = user * 10 + (c - ZERO);
      digits++;
      p++;
    }
    p = this.expectField(buf, p, end, digits, 'user id', 1);
    let item = 0;
    digits = 0;
    while (p < end) {
      const c = buf[p]!;
      if (c < ZERO || c > ZERO + 9) break;
      item = item * 10 + (c - ZERO);
      digits++;
      p++;
    }
    p = this.expectField(buf, p, end, digits, 'item id', 2);
    // rating: digits[.digits]
    let whole = 0;
    let frac = 0;
    let fracScale = 1;
    digits = 0;
    while (p < end) {
      const c = buf[p]!;
      if (c < ZERO || c > ZERO + 9) break;
      whole = whole * 10 + (c - ZERO);
      digits++;
      p++;
    }
    if (p < end && buf[p] === DOT) {
      p++;
      let fd = 0;
      while (p < end) {
        const c = buf[p]!;
        if (c < ZERO || c > ZERO + 9) break;
        if (fd < 6) {
          frac = frac * 10 + (c - ZERO);
          fracScale *= 10;
        }
        fd++;
        p++;
      }
      if (fd === 0) digits = 0;
    }
    p = this.expectField(buf, p, end, digits, 'rating', 3);
    const rating = whole + frac / fracScale;
    const { min, max, step } = this.format.scale;
    if (rating < min || rating > max) this.fail(`rating ${rating} is outside the scale ${min}..${max}`);
    const steps = (rating - min) / step;
    if (Math.abs(steps - Math.round(steps)) > 1e-6)
      this.fail(`rating ${rating} is not on the ${step}-step scale`);
    // timestamp (the last field)
    let ts = 0;
    digits = 0;
    const negative = p < end && buf[p] === MINUS;
    if (negative) p++;
    while (p < end) {
      const c = buf[p]!;
      if (c < ZERO || c > ZERO + 9) break;
      ts = ts * 10 + (c - ZERO);
      digits++;
      p++;
    }
    if (digits === 0) this.fail(this.describeBadField(buf, p, end, 'timestamp', 4));
    if (p < end) {
      if (this.isDelimiterAt(buf, p, end))
        this.fail('too many fields: expected 4 (user, item, rating, timestamp)');
      this.fail(this.describeBadField(buf, p, end, 'timestamp', 4));
    }
    if (user > 2147483647 || item > 2147483647) this.fail('id does not fit in 31 bits');
    const t = negative ? -ts : ts;
    if (t > 2147483647 || t < -2147483648) this.fail(`timestamp ${t} is out of the supported range`);
    const i = this.n++;
    this.users[i] = user;
    this.items[i] = item;
    this.ratings[i] = rating;
    this.timestamps[i] = t;
    if (user > this.maxUser) this.maxUser = user;
    if (item > this.maxItem) this.maxItem = item;
  }

  /** A CSV row with quoted fields: unquote, then parse the plain row (errors keep the line and field number). */
  private parseQuotedRow(buf: Buffer, start: number, end: number): void {
    const fields = splitCsvLine(buf.toString('latin1', start, end));
    if (typeof fields === 'string') this.fail(fields);
    if (fields.length > RATING_FIELDS.length)
      this.fail('too many fields: expected 4 (user, item, rating, timestamp)');
    fields.forEach((field, k) => {
      if (/[",\r\n]/.test(field))
        this.fail(`field ${k + 1} (${RATING_FIELDS[k]}) is not a valid number: "${field.slice(0, 40)}"`);
    });
    const plain = Buffer.from(fields.join(','), 'latin1');
    this.parseRow(plain, 0, plain.length);
  }

  private isDelimiterAt(buf: Buffer, p: number, end: number): boolean {
    if (p >= end || buf[p] !== this.delim) return false;
    return this.delimLength === 1 || (p + 1 < end && buf[p + 1] === this.delim);
  }

  private expectField(
    buf: Buffer,
    p: number,
    end: number,
    digits: number,
    name: string,
    index: number,
  ): number {
    if (digits === 0 || !this.isDelimiterAt(buf, p, end)) {
      if (digits > 0 && p >= end)
        this.fail(`too few fields: expected 4 (user, item, rating, timestamp), found ${index}`);
      this.fail(this.describeBadField(buf, p, end, name, index));
    }
    return p + this.delimLength;
  }

  private describeBadField(buf: Buffer, p: number, end: number, name: string, index: number): string {
    let fieldStart = p;
    while (fieldStart > 0 && buf[fieldStart - 1] !== this.delim && buf[fieldStart - 1] !== NL) fieldStart--;
    let fieldEnd = p;
    while (fieldEnd < end && buf[fieldEnd] !== this.delim) fieldEnd++;
    const field = buf.toString('latin1', fieldStart, Math.min(fieldEnd, fieldStart + 40));
    for (let i = fieldStart; i < fieldEnd; i++) {
      if (buf[i]! > 127) return `field ${index} (${name}) contains a non-ASCII byte: wrong file or encoding?`;
    }
    if (fieldEnd >= end && index < 4) {
      const wrong = [',', '\t', '::', '|', ';'].find((d) => d !== this.format.delimiter && field.includes(d));
      if (wrong) {
        return `too few fields: the line seems separated by ${JSON.stringify(wrong)}, expected ${JSON.stringify(this.format.delimiter)}`;
      }
      return `too few fields: expected 4 (user, item, rating, timestamp), found ${index}`;
    }
    if (field === '') return `field ${index} (${name}) is empty`;
    return `field ${index} (${name}) is not a valid number: "${field}"`;
  }

  finish(): RawRatings {
    if (this.headerPending) this.fail('file has no header line');
    if (this.n === 0) throw new DataError(this.file, undefined, 'file has no ratings rows');
    const n = this.n;
    return {
      users: this.users.subarray(0, n),
      items: this.items.subarray(0, n),
      ratings: this.ratings.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n),
      firstLine: this.firstLine,
      file: this.file,
      maxUser: this.maxUser,
      maxItem: this.maxItem,
    };
  }
}
