import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test } from 'vitest';
import { KeysError, loadKeys, MIN_SECRET_LENGTH, newKey, parseKeysFile } from '../../src/auth/keys.ts';

const S1 = 's'.repeat(MIN_SECRET_LENGTH);
const S2 = 't'.repeat(MIN_SECRET_LENGTH + 10);

describe('API keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcu-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a keys file of "key: secret" lines, with comments and blank lines', () => {
    expect([...parseKeysFile(`# rotation\nAPIold: ${S1}\n\n  APInew:   ${S2}  \r\n`)]).toEqual([
      ['APIold', S1],
      ['APInew', S2],
    ]);
  });

  test.each([
    ['a line without a colon', `APIx ${S1}`, /line 1: expected "key: secret"/],
    ['a short secret', 'APIx: short', /secret of key APIx is 5 characters; it needs at least 32/],
    ['a key twice', `APIx: ${S1}\nAPIx: ${S2}`, /line 2: key APIx is listed twice/],
    ['a key with a space', `API x: ${S1}`, /key "API x" must be/],
  ])('refuses a keys file with %s, naming the line', (_what, text, message) => {
    expect(() => parseKeysFile(text)).toThrow(message);
  });

  it('takes MCU_API_KEY/MCU_API_SECRET first, then the keys file', () => {
    const file = join(dir, 'keys.yaml');
    writeFileSync(file, `APIfile: ${S2}\n`);
    expect([...loadKeys({ MCU_API_KEY: 'APIenv', MCU_API_SECRET: S1, MCU_KEYS_FILE: file })]).toEqual([
      ['APIenv', S1],
      ['APIfile', S2],
    ]);
    expect(loadKeys({}).size).toBe(0);
    expect(loadKeys({ MCU_API_KEY: '', MCU_API_SECRET: '' }).size).toBe(0);
  });

  test.each([
    ['a key without its secret', { MCU_API_KEY: 'APIx' }, /go together/],
    ['a short secret', { MCU_API_KEY: 'APIx', MCU_API_SECRET: 'short' }, /needs at least 32/],
    ['a keys file that is not there', { MCU_KEYS_FILE: '/nonexistent/keys' }, /cannot read the keys file \/nonexistent\/keys: ENOENT/],
  ])('refuses %s with a KeysError', (_what, env, message) => {
    expect(() => loadKeys(env)).toThrow(KeysError);
    expect(() => loadKeys(env)).toThrow(message);
  });

  it('makes new keys whose secret is 256 random bits and that load', () => {
    const a = newKey();
    const b = newKey();
    expect(a.key).not.toBe(b.key);
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32);
    expect([...loadKeys({ MCU_API_KEY: a.key, MCU_API_SECRET: a.secret })]).toEqual([[a.key, a.secret]]);
  });
});
