import { createPrivateKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';

/**
 * The server's TLS certificate: files an operator gives (`--tls-cert`, `--tls-key`), or for a
 * trial on a LAN a self-signed one, made once and kept (with its key) in `<data folder>/tls/`,
 * reused while it is valid for a week more and names every address asked for.
 */
export interface TlsMaterial {
  cert: string;
  key: string;
  certPath: string;
  /** SHA-256 of the certificate, as browsers show it (AB:CD:...). */
  fingerprint: string;
  selfSigned: boolean;
}

const SELF_SIGNED_DAYS = 365;
const RENEW_BEFORE_MS = 7 * 86_400_000;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export function loadTlsFiles(certPath: string, keyPath: string): TlsMaterial {
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const cert = read(certPath, 'certificate');
  const key = read(keyPath, 'key');
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(cert);
  } catch {
    throw new Error(`${certPath} is not a PEM certificate`);
  }
  if (!parsed.checkPrivateKey(privateKeyOf(key, keyPath))) throw new Error(`the key ${keyPath} does not belong to the certificate ${certPath}`);
  return { cert, key, certPath, fingerprint: parsed.fingerprint256, selfSigned: false };
}

function privateKeyOf(pem: string, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new Error(`${path} is not a PEM private key`);
  }
}

/** The addresses and names a self-signed certificate should name for a server listening on `host`. Pure but for the machine's interfaces. */
export function certificateNames(host: string, announced: readonly string[]): { ips: string[]; dns: string[] } {
  const ips = new Set<string>(['127.0.0.1', ...announced]);
  if (host === '0.0.0.0' || host === '::') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') ips.add(a.address);
  } else if (/^[\d.]+$/.test(host) || host.includes(':')) {
    ips.add(host);
  }
  const dns = new Set<string>(['localhost', hostname()]);
  if (!/^[\d.]+$/.test(host) && !host.includes(':') && host !== '0.0.0.0') dns.add(host);
  return { ips: [...ips], dns: [...dns] };
}

function covers(cert: X509Certificate, names: { ips: string[]; dns: string[] }, now: number): boolean {
  if (new Date(cert.validTo).getTime() - now < RENEW_BEFORE_MS) return false;
  return names.ips.every((ip) => cert.checkIP(ip) !== undefined) && names.dns.every((dns) => cert.checkHost(dns) !== undefined);
}

/** The self-signed certificate in `dir` (made, or made again, when it does not fit). */
export async function selfSignedTls(dir: string, names: { ips: string[]; dns: string[] }, now = Date.now()): Promise<TlsMaterial> {
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const kept = loadTlsFiles(certPath, keyPath);
      if (covers(new X509Certificate(kept.cert), names, now)) return { ...kept, selfSigned: true };
    } catch {
      // unreadable or mismatched: made again below
    }
  }
  // Loaded only here: every command of the CLI would otherwise pay for it at start.
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: `CN=mcu self-signed (${hostname()})`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + SELF_SIGNED_DAYS * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys: keys as unknown as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
  const cert = certificate.toString('pem');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Written beside and renamed: a server killed half-way never leaves a cert without its key.
  writeFileSync(`${keyPath}.new`, key, { mode: 0o600 });
  chmodSync(`${keyPath}.new`, 0o600);
  writeFileSync(`${certPath}.new`, cert);
  renameSync(`${keyPath}.new`, keyPath);
  renameSync(`${certPath}.new`, certPath);
  return { cert, key, certPath, fingerprint: new X509Certificate(cert).fingerprint256, selfSigned: true };
}
