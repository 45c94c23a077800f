/**
 * One parameter value between its three forms: the text Edge Impulse passes on the command line,
 * the typed Config value, and the value written to parameters.json.
 */
import { userError } from '../errors.js';
import { FLOAT_PATTERN, defaultValue, type ParamSpec } from './schema.js';

const TRUE_WORDS = ['1', 'true'];
const FALSE_WORDS = ['0', 'false'];

/** Edge Impulse passes booleans as 1/0; true/false are seen too (any case, e.g. Python's True). */
export function parseBooleanWord(raw: string): boolean | undefined {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return undefined;
}

/** Human description of what a parameter accepts, used in error messages and help. */
export function expectation(spec: ParamSpec): string {
  switch (spec.type) {
    case 'int':
    case 'float': {
      const kind = spec.type === 'int' ? 'an integer' : 'a number';
      return `${kind}${rangeText(spec.min, spec.max, spec.minExclusive)}`;
    }
    case 'select':
      return `one of ${spec.valid.join('|')}`;
    case 'boolean':
    case 'flag':
      return '1|0|true|false';
    case 'string':
      return spec.decode ? 'comma-separated numbers >= 0, e.g. "0.001,0.0001"' : 'a text value';
  }
}

export function rangeText(min: number | undefined, max: number | undefined, minExclusive = false): string {
  if (min !== undefined && max !== undefined) return ` ${minExclusive ? '>' : '>='} ${min} and <= ${max}`;
  if (min !== undefined) return ` ${minExclusive ? '>' : '>='} ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

/** Text from the command line -> Config value. Throws UserError naming the flag, the value and the expectation. */
export function parseValue(spec: ParamSpec, raw: string): unknown {
  const fail = (detail?: string) =>
    userError('command line', `--${spec.param}`, `got '${raw}', expected ${expectation(spec)}${detail ? ` (${detail})` : ''}`);
  switch (spec.type) {
    case 'int':
    case 'float': {
      // An integer may be written as a whole float ("100.0", "1e2"): Studio and scripts that compute a
      // value often send those, and a float parameter already accepts "1.0".
      if (!FLOAT_PATTERN.test(raw.trim())) throw fail();
      const value = Number(raw);
      if (!Number.isFinite(value)) throw fail();
      if (spec.type === 'int' && !Number.isInteger(value)) throw fail(`${raw.trim()} is not a whole number`);
      if (spec.type === 'int' && !Number.isSafeInteger(value)) throw fail();
      const belowMin = spec.min !== undefined && (spec.minExclusive ? value <= spec.min : value < spec.min);
      const aboveMax = spec.max !== undefined && value > spec.max;
      if (belowMin || aboveMax) throw fail();
      return value;
    }
    case 'select':
      if (!spec.valid.includes(raw)) throw fail();
      return raw;
    case 'boolean':
    case 'flag': {
      const value = parseBooleanWord(raw);
      if (value === undefined) throw fail();
      return value;
    }
    case 'string':
      if (!spec.decode) return raw;
      try {
        return spec.decode(raw);
      } catch (err) {
        throw fail((err as Error).message);
      }
  }
}

/** Config value -> the text a command line (or parameters.json string field) carries. */
export function formatValue(spec: ParamSpec, value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  if (spec.type === 'boolean' || spec.type === 'flag') return value ? 'true' : 'false';
  return String(value);
}

/**
 * The argv Edge Impulse passes for this parameter with this value (docs/edge-impulse-block.md):
 * `--p value` for int/float/select/string, `--p 1|0` for boolean, bare `--p` for a flag that is on.
 */
export function edgeImpulseArgv(spec: ParamSpec, value: unknown): string[] {
  const flagName = `--${spec.param}`;
  switch (spec.type) {
    case 'flag':
      return value ? [flagName] : [];
    case 'boolean':
      return [flagName, value ? '1' : '0'];
    default:
      return [flagName, formatValue(spec, value)];
  }
}

/**
 * A valid Config value different from the default, for tests that send every parameter once and
 * check it arrives (here: in the Config; elsewhere: in the component named by `spec.consumer`).
 */
export function nonDefaultValue(spec: ParamSpec): unknown {
  switch (spec.type) {
    case 'int': {
      const up = spec.default + 1;
      return spec.max === undefined || up <= spec.max ? up : spec.default - 1;
    }
    case 'float': {
      const base = spec.default === 0 ? 0.5 : spec.default;
      const doubled = base * 2;
      if (doubled !== spec.default && (spec.max === undefined || doubled <= spec.max)) return doubled;
      return base / 2;
    }
    case 'select': {
      const other = spec.valid.find((v) => v !== spec.default);
      if (other === undefined) throw new Error(`--${spec.param}: a select needs at least two values`);
      return other;
    }
    case 'boolean':
    case 'flag':
      return !spec.default;
    case 'string': {
      const raw = spec.example ?? `${spec.default ?? ''}-example`;
      const value = spec.decode ? spec.decode(raw) : raw;
      if (JSON.stringify(value) === JSON.stringify(defaultValue(spec))) {
        throw new Error(`--${spec.param}: its example equals its default`);
      }
      return value;
    }
  }
}
