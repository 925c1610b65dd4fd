import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateNames, loadTlsFiles, selfSignedTls } from '../../src/http/tls.ts';
import { reachableHost } from '../../src/server.ts';

describe('the self-signed certificate for LAN trials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcu-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const names = { ips: ['127.0.0.1', '10.13.0.1'], dns: ['localhost', 'mixer.lan'] };

  it('is made once with a private key only its owner can read, names every address, and is reused', async () => {
    const made = await selfSignedTls(join(dir, 'tls'), names);
    const cert = new X509Certificate(made.cert);
    expect(made.selfSigned).toBe(true);
    expect(cert.checkIP('10.13.0.1')).toBe('10.13.0.1');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('mixer.lan')).toBe('mixer.lan');
    expect(cert.checkIP('10.13.0.2')).toBeUndefined();
    expect(cert.ca).toBe(false);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(made.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(made.fingerprint).toBe(cert.fingerprint256);
    expect(statSync(join(dir, 'tls', 'self-signed.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(made.certPath, 'utf8')).toBe(made.cert);

    const again = await selfSignedTls(join(dir, 'tls'), names);
    expect(again.fingerprint).toBe(made.fingerprint);
    // Asked for a subset: still reused.
    expect((await selfSignedTls(join(dir, 'tls'), { ips: ['10.13.0.1'], dns: [] })).fingerprint).toBe(made.fingerprint);
  });

  it('is made again for an address it does not name, or when it is near its end', async () => {
    const first = await selfSignedTls(join(dir, 'renew'), names);
    const wider = await selfSignedTls(join(dir, 'renew'), { ...names, ips: [...names.ips, '10.13.0.9'] });
    expect(wider.fingerprint).not.toBe(first.fingerprint);
    const late = await selfSignedTls(join(dir, 'renew'), names, Date.now() + 360 * 86_400_000);
    expect(late.fingerprint).not.toBe(wider.fingerprint);
  });

  it('names the listen address, loopback, localhost and the host name', () => {
    const named = certificateNames('10.13.0.1', ['203.0.113.5']);
    expect(named.ips).toEqual(expect.arrayContaining(['127.0.0.1', '10.13.0.1', '203.0.113.5']));
    expect(named.dns).toContain('localhost');
    expect(certificateNames('mixer.lan', []).dns).toContain('mixer.lan');
  });
});

describe('certificate files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcu-tlsfiles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a certificate with its key, and says what is wrong otherwise', async () => {
    const a = await selfSignedTls(join(dir, 'a'), { ips: ['127.0.0.1'], dns: [] });
    const b = await selfSignedTls(join(dir, 'b'), { ips: ['127.0.0.1'], dns: [] });
    expect(loadTlsFiles(a.certPath, join(dir, 'a', 'self-signed.key')).fingerprint).toBe(a.fingerprint);
    expect(() => loadTlsFiles(a.certPath, join(dir, 'b', 'self-signed.key'))).toThrow(/does not belong to the certificate/);
    expect(() => loadTlsFiles(join(dir, 'missing.crt'), join(dir, 'a', 'self-signed.key'))).toThrow(/cannot read the TLS certificate .*missing\.crt: ENOENT/);
    writeFileSync(join(dir, 'garbage.pem'), 'not a certificate');
    expect(() => loadTlsFiles(join(dir, 'garbage.pem'), join(dir, 'a', 'self-signed.key'))).toThrow(/is not a PEM certificate/);
    expect(() => loadTlsFiles(b.certPath, join(dir, 'garbage.pem'))).toThrow(/is not a PEM private key/);
  });
});

describe('the address printed in URLs', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false }, { address: '192.168.1.20', family: 'IPv4', internal: false }],
  } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
  it.each([
    ['127.0.0.1', [], '127.0.0.1'],
    ['10.0.0.5', [], '10.0.0.5'],
    ['0.0.0.0', [], '192.168.1.20'],
    ['0.0.0.0', ['203.0.113.9'], '203.0.113.9'],
    ['::', [], '192.168.1.20'],
  ] as const)('listening on %s (announced %j): %s', (host, announced, expected) => {
    expect(reachableHost(host, announced, interfaces)).toBe(expected);
  });
  it('falls back to loopback on a machine with no other address', () => {
    expect(reachableHost('0.0.0.0', [], { lo: interfaces.lo! })).toBe('127.0.0.1');
  });
});
