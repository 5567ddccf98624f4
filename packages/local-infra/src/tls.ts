import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a throw-away certificate authority, one server and one client certificate. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** Server key and certificate chain in one PEM file (Kafka's `ssl.keystore.type=PEM`). */
  serverKeystore: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.status}): ${r.stderr}`);
}

/**
 * Makes a CA and two certificates it signs with openssl: the server's names `hosts` (IP or DNS
 * subject alternative names, so hostname verification holds on 127.0.0.1), the client's is for
 * mutual TLS. Keys are unencrypted PKCS#8, which both Kafka's PEM keystore and Node read.
 */
export function makeTestPki(dir: string, options: { hosts?: string[]; clientName?: string } = {}): TestPki {
  mkdirSync(dir, { recursive: true });
  const hosts = options.hosts ?? ['127.0.0.1', 'localhost'];
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const key = (name: string): void => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name], dir);
  key('ca.key');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '2', '-subj', '/CN=preflight-test-ca', '-out', 'ca.pem'], dir);
  const issue = (name: string, cn: string, ext: string): void => {
    key(`${name}.key`);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
  };
  issue('server', hosts[0]!, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  issue('client', options.clientName ?? 'preflight-client', 'extendedKeyUsage=clientAuth\n');
  const serverKeystore = join(dir, 'server.keystore.pem');
  writeFileSync(serverKeystore, readFileSync(join(dir, 'server.key'), 'utf8') + readFileSync(join(dir, 'server.pem'), 'utf8'));
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    serverKeystore,
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
}
