import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMaxConnections, RESERVED_FILE_DESCRIPTORS } from './connection-limits.js';

function limitsFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'diyml-limits-')), 'limits');
  writeFileSync(file, content);
  return file;
}

describe('defaultMaxConnections', () => {
  it("keeps descriptors for the api's own files out of the open-file limit", () => {
    const file = limitsFile(
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
        'Max open files            20000                20000                files     \n',
    );
    expect(defaultMaxConnections(file)).toBe(20000 - RESERVED_FILE_DESCRIPTORS);
  });

  it('keeps a quarter of a small open-file limit', () => {
    expect(
      defaultMaxConnections(limitsFile('Max open files            1024                 4096                 files\n')),
    ).toBe(768);
  });

  it('falls back to a fixed number where the limit cannot be read', () => {
    expect(defaultMaxConnections(join(tmpdir(), 'no-such-limits-file'))).toBe(4096);
    expect(
      defaultMaxConnections(limitsFile('Max open files            unlimited            unlimited            files\n')),
    ).toBe(4096);
  });
});
