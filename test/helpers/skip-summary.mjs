// @ts-check
/**
 * A node:test reporter (`npm test` uses it beside `spec`): at the end of the run, lists the tests skipped
 * because an optional tool is missing (test/helpers/prerequisites.ts), grouped by tool, with one
 * apt-get command for all of them, so a partly equipped machine says what it did not check.
 * JavaScript, not TypeScript: node:test loads reporters before tsx's loader is in place.
 */

/** prerequisites.ts's MISSING_PREFIX (test/helpers/prerequisites.test.ts checks they agree). */
export const MISSING_PREFIX = 'missing prerequisite: ';

/** @typedef {{ type: string, data: { name?: string, file?: string, skip?: string | boolean } }} TestEvent */

/** @param {AsyncIterable<TestEvent>} source */
export default async function* skipSummary(source) {
  /** @type {Map<string, string[]>} */
  const byReason = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const reason = event.data.skip;
    if (typeof reason !== 'string' || !reason.startsWith(MISSING_PREFIX)) continue;
    const where = `${event.data.file ? `${event.data.file.replace(/^.*?\/test\//, 'test/')}: ` : ''}${event.data.name ?? ''}`;
    const list = byReason.get(reason) ?? [];
    list.push(where);
    byReason.set(reason, list);
  }
  if (byReason.size === 0) {
    yield 'Oracle tests: every optional tool was present; none skipped.\n';
    return;
  }
  const total = [...byReason.values()].reduce((n, l) => n + l.length, 0);
  let out = `\nSkipped for a missing optional tool: ${total} test${total === 1 ? '' : 's'} (not failures; .ci/run installs them all):\n`;
  /** @type {Set<string>} */
  const packages = new Set();
  for (const [reason, tests] of byReason) {
    out += `  ${reason.slice(MISSING_PREFIX.length)}: ${tests.length} test${tests.length === 1 ? '' : 's'}\n`;
    for (const t of tests) out += `    - ${t}\n`;
    const apt = /\(apt-get install ([^)]+)\)/.exec(reason);
    if (apt) for (const p of apt[1].split(' ')) packages.add(p);
  }
  if (packages.size > 0) out += `  To run them: sudo apt-get install ${[...packages].join(' ')}\n`;
  yield out;
}
