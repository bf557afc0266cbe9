import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { validateSettings } from './settings.js';

const SETTINGS_MODULE = fileURLToPath(new URL('./settings.ts', import.meta.url));

/**
 * What `validateSettings` answers for `environment` in a process run through tsx, as worker scripts and tools run:
 * esbuild writes no decorator metadata, unlike the swc these specs run under.
 */
function validateUnderTsx(environment: Record<string, string>): unknown {
  const script = `
    const { validateSettings } = await import(${JSON.stringify(SETTINGS_MODULE)});
    try {
      const settings = validateSettings(${JSON.stringify(environment)});
      console.log(JSON.stringify({ settings }));
    } catch (error) {
      console.log(JSON.stringify({ refused: error.message }));
    }`;
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    encoding: 'utf8',
  });
  return JSON.parse(output);
}

describe('settings given as environment strings', () => {
  it('are numbers in a process without decorator metadata, and a bad one is refused naming it as given', () => {
    expect(validateUnderTsx({ PASSWORD_HASH_MEMORY_KIB: '65536', PORT: '8080', LOG_LEVEL: 'warn' })).toMatchObject({
      settings: { PASSWORD_HASH_MEMORY_KIB: 65_536, PORT: 8080, LOG_LEVEL: 'warn', MAX_IMAGES_PER_PROJECT: 100_000 },
    });
    expect(validateUnderTsx({ PASSWORD_HASH_MEMORY_KIB: 'much' })).toEqual({
      refused: expect.stringMatching(
        /^Invalid configuration:\n {2}PASSWORD_HASH_MEMORY_KIB="much": .*must be an integer number/,
      ),
    });
  });

  it('keep their defaults when empty, as when unset', () => {
    const settings = validateSettings({ MAX_CONNECTIONS: '', MAX_CONNECTIONS_PER_CLIENT: '', POSTGRES_URL: '' });
    expect(settings.MAX_CONNECTIONS).toBeUndefined();
    expect(settings.MAX_CONNECTIONS_PER_CLIENT).toBe(1000);
    expect(settings.POSTGRES_URL).toBeUndefined();
  });
});

describe('AS_OF_CACHE_MAX_DOCUMENTS', () => {
  it('keeps 150,000 documents of past snapshots by default, and takes 0 (no cache) or another count from the environment', () => {
    expect(validateSettings({}).AS_OF_CACHE_MAX_DOCUMENTS).toBe(150_000);
    expect(validateSettings({ AS_OF_CACHE_MAX_DOCUMENTS: '0' }).AS_OF_CACHE_MAX_DOCUMENTS).toBe(0);
    expect(validateSettings({ AS_OF_CACHE_MAX_DOCUMENTS: '200000' }).AS_OF_CACHE_MAX_DOCUMENTS).toBe(200_000);
  });

  it.each(['-1', '1.5', 'lots', '10000001'])('stops start-up on %s, naming the setting and its range', (value) => {
    expect(() => validateSettings({ AS_OF_CACHE_MAX_DOCUMENTS: value })).toThrow(
      new RegExp(`AS_OF_CACHE_MAX_DOCUMENTS=.*(integer|must not be (less|greater) than)`),
    );
  });
});

describe('SIGN_IN_MAX_WAITING', () => {
  it('lets 50 sign-ins wait for their password check by default, or another count from the environment', () => {
    expect(validateSettings({}).SIGN_IN_MAX_WAITING).toBe(50);
    expect(validateSettings({ SIGN_IN_MAX_WAITING: '200' }).SIGN_IN_MAX_WAITING).toBe(200);
  });

  it.each(['0', '2.5', 'many', '10001'])('stops start-up on %s, naming the setting and its range', (value) => {
    expect(() => validateSettings({ SIGN_IN_MAX_WAITING: value })).toThrow(
      /SIGN_IN_MAX_WAITING=.*(integer|must not be (less|greater) than)/,
    );
  });
});

describe('PASSWORD_HASH_MEMORY_KIB', () => {
  it("hashes passwords with OWASP's minimum of 19 MiB by default, or another size from the environment", () => {
    expect(validateSettings({}).PASSWORD_HASH_MEMORY_KIB).toBe(19_456);
    expect(validateSettings({ PASSWORD_HASH_MEMORY_KIB: '65536' }).PASSWORD_HASH_MEMORY_KIB).toBe(65_536);
  });

  it.each(['512', '1.5', 'much', '4194305'])('stops start-up on %s, naming the setting and its range', (value) => {
    expect(() => validateSettings({ PASSWORD_HASH_MEMORY_KIB: value })).toThrow(
      /PASSWORD_HASH_MEMORY_KIB=.*(integer|must not be (less|greater) than)/,
    );
  });
});
