/** Issue 26: Redis URLs with credentials and TLS, and credentials never shown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { parseQueueUrl, redactText, redactUrl, redisOptions } from '../../src/sweep/redis-url.js';

test('redis:// and rediss:// URLs with a user, a password, a port and a database', () => {
  assert.deepEqual(parseQueueUrl('redis://127.0.0.1:6380', '--queue', {}), { host: '127.0.0.1', port: 6380, db: 0 });
  assert.deepEqual(parseQueueUrl('redis://:pw@h', '--queue', {}), { host: 'h', port: 6379, db: 0, password: 'pw' });
  assert.deepEqual(parseQueueUrl('redis://alice:p%40ss%3Aw@h:1/3', '--queue', {}), { host: 'h', port: 1, db: 3, username: 'alice', password: 'p@ss:w' });
  assert.deepEqual(parseQueueUrl('rediss://bob@[::1]:6379', '--queue', {}), { host: '::1', port: 6379, db: 0, username: 'bob', tls: true });
  // The password from the environment when the URL has none; the URL's own wins.
  assert.equal(parseQueueUrl('redis://bob@h', '--queue', { DENDRITIC_QUEUE_PASSWORD: 'envpw' }).password, 'envpw');
  assert.equal(parseQueueUrl('redis://bob:urlpw@h', '--queue', { DENDRITIC_QUEUE_PASSWORD: 'envpw' }).password, 'urlpw');
  assert.deepEqual(redisOptions(parseQueueUrl('rediss://u:p@h:2/1', '--queue', {})), {
    host: 'h',
    port: 2,
    db: 1,
    username: 'u',
    password: 'p',
    tls: {},
    maxRetriesPerRequest: null,
  });
});

test('a bad URL is a one-line usage error that never shows its password', () => {
  for (const url of ['http://h:1', 'redis://u:secretpw@h:99999', 'redis://u:secretpw@', 'redis://u:secret%zzpw@h', 'redis://:secretpw@h/db']) {
    assert.throws(
      () => parseQueueUrl(url, '--queue', {}),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.doesNotMatch(err.message, /secret/);
        assert.match(err.message, /^command line: --queue: got '[^']*'( \([^)]*\))?, expected redis:\/\/\[USER\[:PASSWORD\]@\]HOST/);
        return true;
      },
      url,
    );
  }
});

test('redaction masks passwords in URLs inside any text, and named secrets', () => {
  assert.equal(redactUrl('redis://alice:pw@h:1/2'), 'redis://alice:***@h:1/2');
  assert.equal(redactUrl('rediss://:pw@h'), 'rediss://:***@h');
  assert.equal(redactUrl('redis://alice@h'), 'redis://alice@h');
  assert.equal(redactUrl('redis://h:1'), 'redis://h:1');
  assert.equal(redactText('connect to redis://a:b@c failed; then redis://:x@y'), 'connect to redis://a:***@c failed; then redis://:***@y');
  assert.equal(redactText('WRONGPASS for hunter2', ['hunter2']), 'WRONGPASS for ***');
});

test('the placeholder of the help and the errors is not a password', () => {
  assert.equal(redactUrl('expected redis://[USER[:PASSWORD]@]HOST[:PORT]'), 'expected redis://[USER[:PASSWORD]@]HOST[:PORT]');
  assert.equal(redactUrl('redis://USER:PASSWORD@HOST'), 'redis://USER:PASSWORD@HOST');
});
