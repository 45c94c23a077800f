/**
 * The one argument layer of the `dendritic` command: Node's util.parseArgs for every command's own
 * options, the same `--help`/`-h` test for every command, and one error shape for usage mistakes
 * (a UserError: one line on stderr, exit code 2). The training parameters keep Edge Impulse's passing
 * rules (src/params/parse.ts): `train`, `demo` and `experiment` hand them to that parser unchanged.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** True when the arguments ask for help: `--help` or `-h` anywhere before a `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** A usage mistake of `command`, with the pointer to its help. */
export function usageError(command: string, problem: string): UserError {
  const where = command === '' ? 'dendritic' : `dendritic ${command}`;
  return new UserError(`${where}: ${problem}; see '${where} --help'`);
}

/**
 * util.parseArgs in strict mode: unknown options, a missing value and (without `positionals`) any
 * positional argument are usage errors naming the command.
 */
export function parseCommandLine<T extends OptionSpecs>(
  command: string,
  argv: readonly string[],
  options: T,
  positionals: { min: number; max: number; names: string } = { min: 0, max: 0, names: '' },
): { values: ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>>['values']; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) throw usageError(command, describe(e.code, e.message));
    throw err;
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    const expected = positionals.max === 0 ? 'no positional arguments' : `${positionals.names}`;
    throw usageError(command, `expected ${expected}, got ${n === 0 ? 'none' : parsed.positionals.map((p) => `'${p}'`).join(' ')}`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** util.parseArgs' errors in the project's "<field>: <problem>" shape (its messages advise on its own API). */
function describe(code: string, message: string): string {
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `${option}: unknown option`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /does not take an argument/.test(message) ? `${option}: takes no value` : `${option}: expected a value after it`;
  }
  return message.split(/\.\s+(?=[A-Z])/)[0]!.replace(/\.$/, '');
}
