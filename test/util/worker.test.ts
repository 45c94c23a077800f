import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { errorFromReply, replyFromError } from '../../src/util/worker.js';

test('worker reply: a UserError stays a UserError, another error keeps its stack, a thrown value becomes a message', () => {
  const user = replyFromError(new UserError('bad input'));
  assert.equal(user.ok, false);
  const back = errorFromReply(user);
  assert.ok(back instanceof UserError);
  assert.equal(back.message, 'bad input');

  const bug = new RangeError('boom');
  const reply = replyFromError(bug);
  assert.deepEqual(structuredClone(reply), reply, 'the reply survives postMessage');
  const again = errorFromReply(reply);
  assert.ok(!(again instanceof UserError));
  assert.equal(again.message, 'boom');
  assert.equal(again.stack, bug.stack);

  const odd = replyFromError(42);
  assert.deepEqual(odd, { ok: false, user: false, message: '42' });
});
