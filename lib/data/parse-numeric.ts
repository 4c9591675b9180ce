import { DataError } from '../util/errors';
import { parseInLineChunks } from './line-chunks';
import { splitCsvLine, unquotedEquals } from './text';

/** `int`: integer (negative allowed only with `signed`); `int?`: integer or empty (→ -1); `float`: decimal. */
export type NumericKind = 'int' | 'int?' | 'float';

export interface NumericColumn {
  name: string;
  kind: NumericKind;
  /** Allow a leading minus sign (ids never have one). */
  signed?: boolean;
}

export interface NumericTableFormat {
  delimiter: ',' | '\t' | '::' | '|';
  /** Expected header line, checked exactly; null when the file has none. */
  header: string | null;
  columns: NumericColumn[];
}

export interface NumericTable {
  /** One array per column: Int32Array for int columns, Float32Array for float columns. */
  columns: Array<Int32Array | Float32Array>;
  rows: number;
  firstLine: number;
  file: string;
}

const NL = 10;
const CR = 13;
const QUOTE = 34;
const CHUNK = 1 << 24;

/**
 * Reads a delimited file of numeric columns (genome-scores.csv, links.csv) with a byte parser in 16 MB chunks,
 * checking every field; a malformed row raises a DataError naming the file and line. A UTF-8 byte-order mark,
 * CRLF, a missing final newline and trailing blank lines are accepted; in ',' files so is RFC 4180 quoting
 * (`"1","0114709",""`), parsed as the same row unquoted.
 */
export function readNumericTable(file: string, format: NumericTableFormat): NumericTable {
  return parseInLineChunks(
    file,
    { chunkBytes: CHUNK, emptyReason: 'file is empty', longLineReason: 'line longer than 64 kB' },
    (size) => new NumericParser(file, format, size),
  ).finish();
}

class NumericParser {
  line = 1;
  private n = 0;
  private columns: Array<Int32Array | Float32Array>;
  private headerPending: boolean;
  private readonly delim: number;
  private readonly delimLength: number;
  private readonly floatCol: boolean[];
  /** ',' files are CSV: a field may be quoted. */
  private readonly csv: boolean;

  constructor(
    private readonly file: string,
    private readonly format: NumericTableFormat,
    fileSize: number,
  ) {
    const capacity = Math.max(1024, Math.ceil(fileSize / (4 * format.columns.length)));
    this.floatCol = format.columns.map((c) => c.kind === 'float');
    this.columns = this.floatCol.map((f) => (f ? new Float32Array(capacity) : new Int32Array(capacity)));
    this.headerPending = format.header !== null;
    this.delim = format.delimiter.charCodeAt(0);
    this.delimLength = format.delimiter.length;
    this.csv = format.delimiter === ',';
  }

  private fail(reason: string): never {
    throw new DataError(this.file, this.line, reason);
  }

  parse(buf: Buffer, end: number, atEof: boolean): void {
    let p = 0;
    while (p < end) {
      let lineEnd = buf.indexOf(NL, p);
      if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
      let contentEnd = lineEnd;
      if (contentEnd > p && buf[contentEnd - 1] === CR) contentEnd--;
      if (this.headerPending) {
        const text = buf.toString('utf8', p, contentEnd);
        if (text !== this.format.header && !(this.csv && unquotedEquals(text, this.format.header))) {
          this.fail(
            /^-?\d/.test(text)
              ? `missing header line: expected "${this.format.header}", found a data row`
              : `unexpected header "${text.slice(0, 80)}": expected "${this.format.header}"`,
          );
        }
        this.headerPending = false;
      } else if (contentEnd === p) {
        for (let i = lineEnd + 1; i < end; i++)
          if (buf[i] !== NL && buf[i] !== CR) this.fail('empty line in the middle of the file');
        if (!atEof) {
          // A blank line at a chunk boundary: only acceptable if nothing else follows; the next chunk tells.
          this.trailingBlank = this.line;
        }
      } else {
        if (this.trailingBlank > 0) {
          this.line = this.trailingBlank;
          this.fail('empty line in the middle of the file');
        }
        this.parseRow(buf, p, contentEnd);
      }
      this.line++;
      p = lineEnd + 1;
    }
  }

  private trailingBlank = 0;

  private parseRow(buf: Buffer, start: number, end: number): void {
    const cols = this.format.columns;
    if (this.n === this.columns[0]!.length) this.grow();
    let p = start;
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      const fieldStart = p;
      if (buf[p] === QUOTE && this.csv && p < end) {
        this.parseQuotedRow(buf, start, end);
        return;
      }
      let value: number;
      if (col.kind === 'float') {
        let sign = 1;
        if (buf[p] === 45) {
          sign = -1;
          p++;
        }
        let mantissa = 0;
        let digits = 0;
        let scale = 0;
        while (p < end && buf[p]! >= 48 && buf[p]! <= 57) {
          if (digits < 16) mantissa = mantissa * 10 + (buf[p]! - 48);
          else scale++;
          digits++;
          p++;
        }
        if (p < end && buf[p] === 46) {
          p++;
          while (p < end && buf[p]! >= 48 && buf[p]! <= 57) {
            if (digits < 16) {
              mantissa = mantissa * 10 + (buf[p]! - 48);
              scale--;
            }
            digits++;
            p++;
          }
        }
        if (digits > 0 && p < end && (buf[p] === 101 || buf[p] === 69)) {
          p++;
          let esign = 1;
          if (buf[p] === 45 || buf[p] === 43) {
            if (buf[p] === 45) esign = -1;
            p++;
          }
          let e = 0;
          let ed = 0;
          while (p < end && buf[p]! >= 48 && buf[p]! <= 57) {
            e = e * 10 + (buf[p]! - 48);
            ed++;
            p++;
          }
          if (ed === 0) digits = 0;
          scale += esign * e;
        }
        if (digits === 0) this.badField(buf, fieldStart, end, c);
        value =
          sign * (scale === 0 ? mantissa : scale > 0 ? mantissa * 10 ** scale : mantissa / 10 ** -scale);
      } else {
        let sign = 1;
        if (col.signed && buf[p] === 45) {
          sign = -1;
          p++;
        }
        let v = 0;
        let digits = 0;
        while (p < end && buf[p]! >= 48 && buf[p]! <= 57) {
          v = v * 10 + (buf[p]! - 48);
          digits++;
          p++;
        }
        if (digits === 0) {
          if (col.kind === 'int?' && (p >= end || this.delimAt(buf, p, end))) v = -1;
          else this.badField(buf, fieldStart, end, c);
        } else if (v > 2147483647) this.fail(`field ${c + 1} (${col.name}) does not fit in 31 bits`);
        value = sign * v;
      }
      this.columns[c]![this.n] = value;
      if (c < cols.length - 1) {
        if (!this.delimAt(buf, p, end)) {
          if (p >= end) this.fail(`too few fields: expected ${cols.length}, found ${c + 1}`);
          this.badField(buf, fieldStart, end, c);
        }
        p += this.delimLength;
      } else if (p < end) {
        if (this.delimAt(buf, p, end)) this.fail(`too many fields: expected ${cols.length}`);
        this.badField(buf, fieldStart, end, c);
      }
    }
    this.n++;
  }

  /** A CSV row with a quoted field: unquote, then parse the plain row (errors keep the line and field number). */
  private parseQuotedRow(buf: Buffer, start: number, end: number): void {
    const fields = splitCsvLine(buf.toString('latin1', start, end));
    if (typeof fields === 'string') this.fail(fields);
    const cols = this.format.columns;
    if (fields.length > cols.length) this.fail(`too many fields: expected ${cols.length}`);
    fields.forEach((field, k) => {
      if (/[",\r\n]/.test(field)) {
        const what = cols[k]!.kind === 'float' ? 'number' : 'integer';
        this.fail(`field ${k + 1} (${cols[k]!.name}) is not a valid ${what}: "${field.slice(0, 40)}"`);
      }
    });
    const plain = Buffer.from(fields.join(','), 'latin1');
    this.parseRow(plain, 0, plain.length);
  }

  private delimAt(buf: Buffer, p: number, end: number): boolean {
    if (p >= end || buf[p] !== this.delim) return false;
    return this.delimLength === 1 || (p + 1 < end && buf[p + 1] === this.delim);
  }

  private badField(buf: Buffer, fieldStart: number, end: number, c: number): never {
    let fieldEnd = fieldStart;
    while (fieldEnd < end && !this.delimAt(buf, fieldEnd, end)) fieldEnd++;
    const col = this.format.columns[c]!;
    const text = buf.toString('latin1', fieldStart, Math.min(fieldEnd, fieldStart + 40));
    if (text === '') this.fail(`field ${c + 1} (${col.name}) is empty`);
    if (fieldEnd >= end && c < this.format.columns.length - 1) {
      const wrong = [',', '\t', '::', '|', ';'].find((d) => d !== this.format.delimiter && text.includes(d));
      if (wrong)
        this.fail(
          `too few fields: the line seems separated by ${JSON.stringify(wrong)}, expected ${JSON.stringify(this.format.delimiter)}`,
        );
    }
    this.fail(
      `field ${c + 1} (${col.name}) is not a valid ${col.kind === 'float' ? 'number' : 'integer'}: "${text}"`,
    );
  }

  private grow(): void {
    const cap = Math.ceil(this.columns[0]!.length * 1.5) + 1024;
    this.columns = this.columns.map((a) => {
      const b = a instanceof Float32Array ? new Float32Array(cap) : new Int32Array(cap);
      b.set(a);
      return b;
    });
  }

  finish(): NumericTable {
    if (this.headerPending) this.fail('file has no header line');
    return {
      columns: this.columns.map((a) => a.subarray(0, this.n)),
      rows: this.n,
      firstLine: this.format.header !== null ? 2 : 1,
      file: this.file,
    };
  }
}
