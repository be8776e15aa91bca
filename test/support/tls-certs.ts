/**
 * Certificates for the SIP over TLS tests, made at test time with the openssl CLI (Debian's
 * `openssl`): a lab CA, a certificate for Kamailio and one for the gateway, both for 127.0.0.1 and
 * localhost and signed by that CA, and a second, unrelated CA (a "wrong CA" for failure tests).
 * Everything lives in a fresh directory under test/.lab/.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLabDir } from './proc';

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface LabPki {
  dir: string;
  /** The lab CA (PEM), which signed `kamailio` and `gateway`. */
  caFile: string;
  /** A CA that signed nothing here: verifying Kamailio against it must fail. */
  otherCaFile: string;
  /** Kamailio's certificate (SAN IP:127.0.0.1, DNS:localhost). */
  kamailio: CertFiles;
  /** The gateway's certificate (SAN IP:127.0.0.1, DNS:localhost). */
  gateway: CertFiles;
  /** A certificate for a name Kamailio is not (SAN DNS:pcscf.other.example only), signed by the lab CA. */
  wrongName: CertFiles;
}

function openssl(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.env.LAB_OPENSSL_BIN ?? 'openssl', args, { cwd: dir, timeout: 20_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`openssl ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(),
    );
  });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string, cn: string): Promise<string> {
  await openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}-key.pem`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return join(dir, `${name}.pem`);
}

async function makeLeaf(dir: string, name: string, san: string): Promise<CertFiles> {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await openssl(dir, ['req', ...EC, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}-key.pem`) };
}

export async function makeLabPki(): Promise<LabPki> {
  const dir = makeLabDir('tls-pki');
  const caFile = await makeCa(dir, 'ca', 'Lab IMS CA');
  const otherCaFile = await makeCa(dir, 'other-ca', 'Some other CA');
  const kamailio = await makeLeaf(dir, 'kamailio', 'IP:127.0.0.1,DNS:localhost');
  const gateway = await makeLeaf(dir, 'gateway', 'IP:127.0.0.1,DNS:localhost');
  const wrongName = await makeLeaf(dir, 'wrong-name', 'DNS:pcscf.other.example');
  return { dir, caFile, otherCaFile, kamailio, gateway, wrongName };
}
