import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DataError } from '../util/errors';

const NL = 10;
const QUOTE = 34;

/** True when `bytes` starts with the UTF-8 byte-order mark (EF BB BF), as Excel, Notepad and PowerShell write. */
export function startsWithUtf8Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

/** A byte parser fed whole lines: `parse(buf, end, atEof)` gets buf[0, end) (ending in '\n' unless at EOF). */
export interface LineChunkParser {
  /** 1-based line number reached (for errors about the reading itself). */
  line: number;
  parse(buf: Buffer, end: number, atEof: boolean): void;
}

export interface LineChunkOptions {
  /** Bytes read at a time (the parsers keep no other copy of the file). */
  chunkBytes: number;
  /** Reason given for an empty file. */
  emptyReason: string;
  /** Reason given for a line that does not fit the chunk slack (64 kB). */
  longLineReason: string;
}

/**
 * Reads `file` in fixed chunks and hands the parser only complete lines, carrying a partial last line over
 * to the next chunk. A UTF-8 byte-order mark at the start is skipped once, before the first chunk, so parsers
 * never see it (and their hot loops never test for it). `makeParser` receives the file size without the mark
 * (to size its output). Open errors, empty files (a mark alone counts as empty) and over-long lines become
 * DataErrors naming the file.
 */
export function parseInLineChunks<P extends LineChunkParser>(
  file: string,
  options: LineChunkOptions,
  makeParser: (fileSize: number) => P,
): P {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(
      file,
      undefined,
      code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? err})`,
    );
  }
  try {
    const fileSize = fstatSync(fd).size;
    const head = Buffer.alloc(3);
    const skip = readSync(fd, head, 0, 3, 0) === 3 && startsWithUtf8Bom(head) ? 3 : 0;
    const size = fileSize - skip;
    if (size === 0) throw new DataError(file, undefined, options.emptyReason);
    const parser = makeParser(size);
    const buf = Buffer.allocUnsafe(options.chunkBytes + 65536);
    let carry = 0;
    let position = skip;
    for (;;) {
      const read = readSync(fd, buf, carry, buf.length - carry, position);
      position += read;
      const end = carry + read;
      if (read === 0) {
        if (end > 0) parser.parse(buf, end, true);
        return parser;
      }
      const last = buf.lastIndexOf(NL, end - 1);
      if (last < 0) {
        if (end >= buf.length) throw new DataError(file, parser.line, options.longLineReason);
        carry = end;
        continue;
      }
      parser.parse(buf, last + 1, false);
      carry = end - (last + 1);
      buf.copy(buf, 0, last + 1, end);
    }
  } finally {
    closeSync(fd);
  }
}

/** True when buf[start, end) holds a double quote (for the byte parsers' slow path only). */
export function hasQuote(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === QUOTE) return true;
  return false;
}
