import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { numericCodeHash, sourceTreeHash } from '../../lib/search/code-hash';

describe('trial hashes follow the numeric code', () => {
  it('changes when a model source changes, not when files elsewhere do', () => {
    const root = mkdtempSync(join(tmpdir(), 'reelab-codehash-'));
    mkdirSync(join(root, 'lib/models'), { recursive: true });
    mkdirSync(join(root, 'lib/report'), { recursive: true });
    writeFileSync(join(root, 'lib/models/svd.ts'), 'export const lr = 0.005;\n');
    writeFileSync(join(root, 'lib/report/report.ts'), 'export const title = "a";\n');
    const before = sourceTreeHash(root, ['lib/models']);
    writeFileSync(join(root, 'lib/report/report.ts'), 'export const title = "b";\n');
    expect(sourceTreeHash(root, ['lib/models'])).toBe(before);
    writeFileSync(join(root, 'lib/models/svd.ts'), 'export const lr = 0.007;\n');
    expect(sourceTreeHash(root, ['lib/models'])).not.toBe(before);
    writeFileSync(join(root, 'lib/models/svd.ts'), 'export const lr = 0.005;\n');
    writeFileSync(join(root, 'lib/models/new-model.ts'), 'export {};\n');
    expect(sourceTreeHash(root, ['lib/models'])).not.toBe(before);
  });

  it('covers this checkout and is stable within a process', () => {
    expect(numericCodeHash()).toMatch(/^[0-9a-f]{64}$/);
    expect(numericCodeHash()).toBe(numericCodeHash());
  });
});
