import {
  closeSync,
  createReadStream,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
} from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw, deflateRawSync } from 'node:zlib';
import { DataError } from '../util/errors';

/** One member of a zip archive, from its central directory. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  isDirectory: boolean;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const got = readSync(fd, buf, 0, length, position);
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Lists a zip archive's members (ZIP64 aware). A missing end-of-central-directory record, entries that point
 * past the end of the file or a central directory cut short all mean a truncated or corrupt archive.
 */
export function listZip(file: string): ZipEntry[] {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const fail = (why: string): never => {
      throw new DataError(file, undefined, `corrupt or truncated zip archive (${size} bytes): ${why}`);
    };
    if (size < 22) fail('too short to be a zip');
    const tailLength = Math.min(size, 65535 + 22);
    const tail = readAt(fd, size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) fail('no end-of-central-directory record');
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locAt = at - 20;
      if (locAt < 0 || tail.readUInt32LE(locAt) !== EOCD64_LOCATOR) fail('ZIP64 locator missing');
      const eocd64Offset = Number(tail.readBigUInt64LE(locAt + 8));
      const rec = readAt(fd, eocd64Offset, 56);
      if (rec.length < 56 || rec.readUInt32LE(0) !== EOCD64) fail('ZIP64 end record missing');
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) fail('central directory lies past the end of the file');
    const cd = readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL)
        fail(`central directory entry ${k + 1} is damaged`);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let uncompressed = cd.readUInt32LE(p + 24);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      let offset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
      // ZIP64 extra field (id 1) carries the sizes/offset that overflowed 32 bits, in this order.
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 1) {
          let q = e + 4;
          if (uncompressed === 0xffffffff) {
            uncompressed = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (offset === 0xffffffff) offset = Number(cd.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      if (offset + compressedSize > size) fail(`member ${name} lies past the end of the file`);
      entries.push({
        name,
        method,
        crc32: crc,
        compressedSize,
        size: uncompressed,
        localHeaderOffset: offset,
        isDirectory: name.endsWith('/'),
      });
      p = extraEnd + commentLength;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** Counts bytes and the CRC-32 of what passes through. */
class CrcCounter extends Transform {
  crc = 0;
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export interface ExtractOptions {
  /** Leading folder to strip from member names (e.g. "ml-10M100K/"); members outside it are skipped. */
  stripPrefix?: string;
}

/**
 * Extracts every file member into `dest`, streaming (inflate) and checking each member's CRC-32 and length.
 * Names that would escape `dest` are refused. Returns the extracted relative paths.
 */
export async function extractZip(
  file: string,
  dest: string,
  options: ExtractOptions = {},
): Promise<string[]> {
  const entries = listZip(file);
  const fd = openSync(file, 'r');
  const written: string[] = [];
  try {
    for (const entry of entries) {
      let name = entry.name;
      if (options.stripPrefix) {
        if (!name.startsWith(options.stripPrefix)) continue;
        name = name.slice(options.stripPrefix.length);
      }
      if (name === '' || entry.isDirectory || name.startsWith('__MACOSX/')) continue;
      const target = normalize(join(dest, name));
      if (!target.startsWith(normalize(dest) + sep) || name.includes('\0'))
        throw new DataError(
          file,
          undefined,
          `member "${entry.name}" would be written outside the target folder`,
        );
      if (entry.method !== 0 && entry.method !== 8)
        throw new DataError(
          file,
          undefined,
          `member ${entry.name} uses compression method ${entry.method} (only stored and deflate are supported)`,
        );
      const local = readAt(fd, entry.localHeaderOffset, 30);
      if (local.length < 30 || local.readUInt32LE(0) !== LOCAL)
        throw new DataError(file, undefined, `corrupt zip archive: local header of ${entry.name} is damaged`);
      const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      mkdirSync(dirname(target), { recursive: true });
      const counter = new CrcCounter();
      const source = createReadStream(file, {
        start: dataStart,
        end: Math.max(dataStart, dataStart + entry.compressedSize - 1),
      });
      try {
        if (entry.compressedSize === 0) {
          await pipeline(source, counter, createWriteStream(target));
        } else if (entry.method === 8) {
          await pipeline(source, createInflateRaw(), counter, createWriteStream(target));
        } else {
          await pipeline(source, counter, createWriteStream(target));
        }
      } catch (err) {
        throw new DataError(
          file,
          undefined,
          `corrupt zip archive: ${entry.name} does not inflate (${(err as Error).message})`,
        );
      }
      if (counter.bytes !== entry.size || counter.crc >>> 0 !== entry.crc32 >>> 0) {
        throw new DataError(
          file,
          undefined,
          `corrupt zip archive: ${entry.name} gives ${counter.bytes} bytes with CRC-32 ${(counter.crc >>> 0).toString(16)}, expected ${entry.size} bytes with ${(entry.crc32 >>> 0).toString(16)}`,
        );
      }
      written.push(name);
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Builds a small deflated zip in memory (tests, fixtures and synthetic archives; no ZIP64). */
export function createZip(files: Array<{ name: string; data: Buffer | string }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const data = typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : f.data;
    const name = Buffer.from(f.name, 'utf8');
    const packed = deflateRawSync(data);
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += 30 + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(EOCD, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
