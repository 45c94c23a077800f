/**
 * Issue 26: rediss:// (TLS). A redis-server of our own serving TLS only, with a certificate of a private
 * CA made here (openssl) and a password. A worker given the CA (NODE_EXTRA_CA_CERTS, Node's own way to
 * trust a private CA) connects and waits for trials; without it, the certificate is refused in one line
 * (exit 2); the password is in neither output nor the process listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO_ROOT, runCli, tempDir, waitForExit, waitForOutput } from '../helpers/ei-data.js';
import { freePort, startRedis } from './helpers.js';

const PASSWORD = 'Tls-queue-pw-31';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test(
  'rediss:// with a password: a worker trusting the CA connects; one that does not is refused in one line',
  { skip: !hasOpenssl() && 'needs openssl' },
  async () => {
    const { dir, cleanup } = tempDir('queue-tls');
    const ca = join(dir, 'ca.pem');
    const caKey = join(dir, 'ca.key');
    const key = join(dir, 'server.key');
    const csr = join(dir, 'server.csr');
    const cert = join(dir, 'server.pem');
    const ext = join(dir, 'ext.cnf');
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=dendritic test CA');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1');
    writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
    const tlsPort = await freePort();
    const redis = await startRedis(join(dir, 'redis'), [
      '--port',
      '0',
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      cert,
      '--tls-key-file',
      key,
      '--tls-ca-cert-file',
      ca,
      '--tls-auth-clients',
      'no',
      '--requirepass',
      PASSWORD,
    ]);
    const url = `rediss://:${PASSWORD}@127.0.0.1:${tlsPort}`;
    try {
      // Without the CA: the server's certificate is refused, in one line.
      const refused = runCli(['worker', '--queue', url], { timeoutMs: 20_000 });
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(
        refused.stderr,
        /^error: command line: --queue: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ \([A-Z_]+|.*certificate.*\): expected a running redis-server\n$/,
      );
      assert.ok(!refused.stderr.includes(PASSWORD));
      // Plain redis:// on a TLS port: not a stack either.
      const plain = runCli(['worker', '--queue', url.replace('rediss://', 'redis://')], { timeoutMs: 20_000 });
      assert.equal(plain.code, 2, plain.stderr);
      assert.doesNotMatch(plain.stderr, /internal error|\n\s+at /);
      // With the CA: connected, waiting for trials.
      const worker = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--name', 'tls-worker'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
      });
      const exit = waitForExit(worker);
      await waitForOutput(worker, /worker tls-worker waiting for trials on rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+/, 20_000);
      assert.ok(!readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').includes(PASSWORD), 'ps shows no password');
      worker.kill('SIGTERM');
      const w = await exit;
      assert.equal(w.code, 143, `${w.signal} ${w.stderr}`);
      assert.ok(!w.stderr.includes(PASSWORD) && !w.stdout.includes(PASSWORD));
    } finally {
      await redis.stop();
      cleanup();
    }
  },
);
