import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type Key = webcrypto.CryptoKey;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  cert: x509.X509Certificate;
  key: Key;
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function keyPem(key: Key): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * The twin's certificate authority for one work directory: made once (ECDSA P-256, ten years) and
 * kept in `<dir>/ca.crt` and `ca.key`, so that a kubeconfig made earlier in the same directory stays
 * valid. It signs the API server's serving certificate and the admin's client certificate.
 */
export async function ensureCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  await mkdir(dir, { recursive: true });
  const certFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'ca.key');
  try {
    const [certPem, keyPemText] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    const key = (await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(keyPemText),
      ALG,
      true,
      ['sign'],
    )) as Key;
    return { cert: new x509.X509Certificate(certPem), certPem, keyPem: keyPemText, key };
  } catch {
    // none yet (or unreadable): make a new one
  }
  const keys = await newKeys();
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=infra-twin-ca',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 10 * 365 * 24 * 3600_000),
    keys: keys as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  const ca: CertificateAuthority = {
    cert,
    certPem: cert.toString('pem'),
    keyPem: await keyPem(keys.privateKey),
    key: keys.privateKey,
  };
  await writeFile(keyFile, ca.keyPem, { mode: 0o600 });
  await writeFile(certFile, ca.certPem);
  return ca;
}

/** A certificate signed by the CA: for serving (`hosts`: DNS names and IPs) or a client (`organizations` are its groups). */
export async function issueCertificate(
  ca: CertificateAuthority,
  options: {
    commonName: string;
    organizations?: string[];
    dnsNames?: string[];
    ips?: string[];
    usage: 'server' | 'client';
  },
): Promise<KeyPairPem> {
  const keys = await newKeys();
  const now = new Date();
  const subject = [`CN=${options.commonName}`, ...(options.organizations ?? []).map((o) => `O=${o}`)].join(
    ', ',
  );
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 365 * 24 * 3600_000),
    publicKey: keys.publicKey as never,
    signingKey: ca.key as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new (
        x509.ExtendedKeyUsageExtension as unknown as new (
          u: string[],
          critical?: boolean,
        ) => x509.Extension
      )(
        [options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}
