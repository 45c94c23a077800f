/**
 * The queue's Redis address as its users secure it: `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]`, or
 * `rediss://` for TLS. A password may instead come from the environment (DENDRITIC_QUEUE_PASSWORD), which
 * keeps it out of the command line entirely. Credentials are never printed: every log line, error,
 * sweep.json field and the process title carry the URL as redactUrl() writes it (`redis://USER:***@...`).
 */
import { UserError } from '../errors.js';

export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

/** Where a password given outside the URL is read from (the URL's own password wins). */
export const PASSWORD_ENV = 'DENDRITIC_QUEUE_PASSWORD';

const MASK = '***';

/**
 * The URL with its password (and any userinfo that cannot be parsed) replaced by `***`. Works on text that
 * is not a valid URL too: whatever stands between `://` and the last `@` before the host is masked.
 */
export function redactUrl(url: string): string {
  return url.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^\s/@]*)@/gi, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon < 0) return `${scheme}${userinfo}@`; // a user name alone is not a secret
    if (/^PASSWORD\]?$/.test(userinfo.slice(colon + 1))) return `${scheme}${userinfo}@`; // the placeholder in help and errors
    return `${scheme}${userinfo.slice(0, colon)}:${MASK}@`;
  });
}

/** Every Redis URL in a text (a log line, an error message) with its password masked. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = redactUrl(text);
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join(MASK);
  return out;
}

const EXPECTED = 'expected redis://[USER[:PASSWORD]@]HOST[:PORT][/DB] or rediss://... for TLS (e.g. redis://127.0.0.1:6379)';

/** `--queue URL` -> the connection options; anything else is a usage error (which never shows the password). */
export function parseQueueUrl(url: string, option = '--queue', env: NodeJS.ProcessEnv = process.env): RedisAddress {
  const bad = (why = '') => new UserError(`command line: ${option}: got '${redactUrl(url)}'${why}, ${EXPECTED}`);
  const m = /^(rediss?):\/\/(?:([^@/\s]*)@)?([^:/\s@[\]]+|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?(?:\/(\d{1,2}))?\/?$/.exec(url);
  if (!m) throw bad();
  const port = m[4] === undefined ? 6379 : Number(m[4]);
  if (port < 1 || port > 65535) throw bad(` (port ${port})`);
  const db = m[5] === undefined ? 0 : Number(m[5]);
  const addr: RedisAddress = { host: m[3]!.replace(/^\[|\]$/g, ''), port, db };
  if (m[1] === 'rediss') addr.tls = true;
  if (m[2] !== undefined && m[2] !== '') {
    const colon = m[2].indexOf(':');
    const decode = (s: string, what: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw bad(` (its ${what} is not valid percent-encoding)`);
      }
    };
    const user = decode(colon < 0 ? m[2] : m[2].slice(0, colon), 'user name');
    if (user !== '') addr.username = user;
    if (colon >= 0) {
      const password = decode(m[2].slice(colon + 1), 'password');
      if (password !== '') addr.password = password;
    }
  }
  if (addr.password === undefined && env[PASSWORD_ENV]) addr.password = env[PASSWORD_ENV];
  return addr;
}

/** ioredis options for an address (BullMQ's connections too: no retry limit per request). */
export function redisOptions(addr: RedisAddress): {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: object;
  maxRetriesPerRequest: null;
} {
  return {
    host: addr.host,
    port: addr.port,
    db: addr.db,
    ...(addr.username !== undefined ? { username: addr.username } : {}),
    ...(addr.password !== undefined ? { password: addr.password } : {}),
    ...(addr.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * Replaces the process title (what `ps` shows: this process's command line) with the command line whose
 * Redis URLs are redacted. On Linux the new title overwrites the memory `ps` reads the arguments from.
 */
export function hideCredentialsInProcessTitle(argv: readonly string[] = process.argv): void {
  const redacted = argv.map((a) => redactUrl(a));
  if (redacted.every((a, i) => a === argv[i])) return;
  try {
    process.title = redacted.join(' ');
  } catch {
    // a platform without a settable title: nothing more can be done here
  }
}
