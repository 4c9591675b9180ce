import { readFileSync } from 'node:fs';
import { DataError } from '../util/errors';
import { startsWithUtf8Bom } from './line-chunks';

/**
 * Reads a whole text file; UTF-8 files are checked strictly and a bad byte is reported with its line. A UTF-8
 * byte-order mark is dropped. In a file expected to be Latin-1 (u.item, movies.dat, users.dat) the mark means a
 * tool re-saved it as UTF-8 (Excel's "CSV UTF-8", Notepad): the rest is then decoded as UTF-8 when it is valid
 * UTF-8, else as Latin-1 (the mark prepended to the original bytes), so both give the titles of the plain file.
 */
export function readText(file: string, encoding: 'utf8' | 'latin1'): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      file,
      undefined,
      code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? err})`,
    );
  }
  if (bytes.length === 0) throw new DataError(file, undefined, 'file is empty');
  if (encoding === 'latin1') {
    if (!startsWithUtf8Bom(bytes)) return bytes.toString('latin1');
    const rest = bytes.subarray(3);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(rest);
    } catch {
      return rest.toString('latin1');
    }
  }
  try {
    // The decoder drops a leading byte-order mark (ignoreBOM: false is the default).
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 10) line++;
    throw new DataError(
      file,
      line,
      `not valid UTF-8 (byte 0x${bytes[offset]?.toString(16)} at offset ${offset}): wrong encoding?`,
    );
  }
}

function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const need =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return b.length;
}

/**
 * Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into rows of fields, each with its
 * 1-based line number. A line break inside a quoted field is returned as LF whether the file wrote CRLF or LF,
 * so a CRLF copy of a file gives the same values. Unterminated quotes and stray quotes are errors naming the line.
 */
export function parseCsv(text: string, file: string): Array<{ line: number; fields: string[] }> {
  const rows: Array<{ line: number; fields: string[] }> = [];
  scanCsv(text, file, (fields, line) => {
    rows.push({ line, fields });
  });
  return rows;
}

/**
 * Calls `onRow(fields, line)` for each CSV row (same rules as parseCsv) without keeping the rows: for large
 * files such as ml-32m's tags.csv. A blank line is allowed only at the end of the text.
 */
export function scanCsv(text: string, file: string, onRow: (fields: string[], line: number) => void): void {
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  while (i < n) {
    const rowLine = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === 34) {
        i++;
        let start = i;
        value = '';
        for (;;) {
          if (i >= n) throw new DataError(file, rowLine, 'unterminated quoted field');
          const ch = text.charCodeAt(i);
          if (ch === 34) {
            value += text.slice(start, i);
            if (text.charCodeAt(i + 1) === 34) {
              value += '"';
              i += 2;
              start = i;
              continue;
            }
            i++;
            break;
          }
          if (ch === 13 && text.charCodeAt(i + 1) === 10) {
            // CRLF inside a quoted field: keep the LF only (the CR is the file's line ending, not data).
            value += text.slice(start, i);
            start = ++i;
            continue;
          }
          if (ch === 10) line++;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new DataError(file, line, 'unexpected character after a closing quote');
        }
      } else {
        const start = i;
        while (i < n) {
          const ch = text.charCodeAt(i);
          if (ch === 44 || ch === 10 || ch === 13) break;
          if (ch === 34) throw new DataError(file, line, 'quote inside an unquoted field');
          i++;
        }
        value = text.slice(start, i);
      }
      fields.push(value);
      if (i < n && text.charCodeAt(i) === 44) {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (i < n && text[i] !== '\n') throw new DataError(file, line, 'stray carriage return');
    i++;
    line++;
    if (!(fields.length === 1 && fields[0] === '')) onRow(fields, rowLine);
    else if (/[^\r\n]/.test(text.slice(i)))
      throw new DataError(file, rowLine, 'empty line in the middle of the file');
    else return;
  }
}

/** Splits a delimited text (no quoting, e.g. u.item or movies.dat) into rows of fields with line numbers. */
export function parseDelimited(
  text: string,
  delimiter: string,
  file: string,
): Array<{ line: number; fields: string[] }> {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  const rows: Array<{ line: number; fields: string[] }> = [];
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!.endsWith('\r') ? lines[k]!.slice(0, -1) : lines[k]!;
    if (raw === '') {
      if (lines.slice(k + 1).some((l) => l.trim() !== ''))
        throw new DataError(file, k + 1, 'empty line in the middle of the file');
      break;
    }
    rows.push({ line: k + 1, fields: raw.split(delimiter) });
  }
  return rows;
}

/**
 * Splits one CSV line (no line break) into its fields by the rules of `scanCsv`: `"a,b"` → `a,b`, `""` inside
 * quotes → `"`. Returns the reason as a string when the quoting is broken (an unterminated quote, text after a
 * closing quote, a quote inside an unquoted field): the byte parsers, which read line by line, report it with
 * their own file and line.
 */
export function splitCsvLine(line: string): string[] | string {
  let fields: string[] = [''];
  try {
    scanCsv(line, '', (row) => {
      fields = row;
    });
  } catch (err) {
    if (err instanceof DataError) return err.reason;
    throw err;
  }
  return fields;
}

/** True when the CSV line `text`, quotes removed, is `expected` (a quoted header, as R's write.csv writes one). */
export function unquotedEquals(text: string, expected: string | null): boolean {
  if (expected === null || !text.includes('"')) return false;
  const fields = splitCsvLine(text);
  return typeof fields !== 'string' && !fields.some((f) => f.includes(',')) && fields.join(',') === expected;
}
