/**
 * Command-line parsing with Edge Impulse's passing rules (docs/edge-impulse-block.md):
 *   int / float / select / string: `--p value` (or `--p=value`)
 *   boolean: `--p 1|0|true|false`; a bare `--p` followed by another `--flag` or the end means true
 *   flag: bare `--p` (or `--p=1|0|true|false`)
 * Unknown arguments are returned, never dropped, so the CLI can warn about them: Edge Impulse's runner
 * passes extras such as `--validation-set-size 0.2 --input-shape "(650,)"`. An unknown `--x` followed
 * by a token that is not itself a `--flag` takes that token as its value.
 * Pass the arguments after the subcommand (`dendritic train <args>`).
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { userError } from '../errors.js';
import { SCHEMA, defaultConfig, type Config, type ConfigKey, type ParamSpec } from './schema.js';
import { parseValue } from './values.js';

/**
 * Where an applied value came from, the one vocabulary of the log, effective-config.json and
 * report.json: 'default' (the schema's default), 'cli' (a command-line argument; Edge Impulse passes
 * every Studio parameter this way, defaults included), 'train_input.json' (a fact from --info-file).
 */
export type ValueSource = 'default' | 'cli' | 'train_input.json';
export const VALUE_SOURCES: readonly ValueSource[] = ['default', 'cli', 'train_input.json'];

export interface ParsedArgs {
  config: Config;
  sources: Record<ConfigKey, ValueSource>;
  /** Arguments no parameter claimed, in order, values included (e.g. ['--input-shape', '(650,)']). */
  unknown: string[];
}

export interface ParseOptions {
  /**
   * Keys that must be given (e.g. REQUIRED_FOR_TRAIN); a missing one is a UserError, unless its spec
   * has a `runnerDefault` and `isRunner()` says the run is `edge-impulse-blocks runner`'s.
   */
  required?: readonly ConfigKey[];
  /** Default: /home/X_split_train.npy exists (the runner mounts the data at /home). */
  isRunner?: () => boolean;
}

/** Where `edge-impulse-blocks runner` mounts the data directory. */
export const RUNNER_DATA_FILE = '/home/X_split_train.npy';

/** What `dendritic train` cannot run without. */
export const REQUIRED_FOR_TRAIN: readonly ConfigKey[] = SCHEMA.filter((s) => s.requiredForTrain).map((s) => s.key);

const SPEC_BY_FLAG: ReadonlyMap<string, ParamSpec> = buildFlagIndex();

function buildFlagIndex(): Map<string, ParamSpec> {
  const index = new Map<string, ParamSpec>();
  for (const spec of SCHEMA) {
    for (const name of [spec.param, ...(spec.aliases ?? [])]) {
      if (index.has(name)) throw new Error(`schema: --${name} is declared twice`);
      index.set(name, spec);
    }
  }
  return index;
}

const isFlagToken = (token: string | undefined): boolean => token !== undefined && token.startsWith('--');

export function parseArgs(argv: readonly string[], options: ParseOptions = {}): ParsedArgs {
  const config = defaultConfig() as unknown as Record<ConfigKey, unknown>;
  const sources = Object.fromEntries(SCHEMA.map((s) => [s.key, 'default'])) as Record<ConfigKey, ValueSource>;
  const unknown: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!isFlagToken(token)) {
      unknown.push(token); // a stray positional: reported, never guessed at
      continue;
    }
    const equals = token.indexOf('=');
    const name = token.slice(2, equals === -1 ? undefined : equals);
    const inlineValue = equals === -1 ? undefined : token.slice(equals + 1);
    const spec = SPEC_BY_FLAG.get(name);

    if (!spec) {
      unknown.push(token);
      const next = argv[i + 1];
      if (inlineValue === undefined && next !== undefined && !isFlagToken(next)) {
        unknown.push(next);
        i++;
      }
      continue;
    }

    let raw: string;
    if (inlineValue !== undefined) {
      raw = inlineValue;
    } else if (spec.type === 'flag') {
      raw = 'true';
    } else {
      const next = argv[i + 1];
      if (spec.type === 'boolean' && (next === undefined || isFlagToken(next))) {
        raw = 'true';
      } else if (next === undefined || (isFlagToken(next) && spec.type !== 'boolean')) {
        throw userError('command line', `--${spec.param}`, `missing value, expected ${describeNeed(spec)}`);
      } else {
        raw = next;
        i++;
      }
    }
    // Repeated flags: the last one wins (as with argparse), the source stays 'cli'.
    config[spec.key] = parseValue(spec, raw);
    sources[spec.key] = 'cli';
  }

  let runner: boolean | undefined;
  for (const key of options.required ?? []) {
    if (config[key] === undefined) {
      const spec = SCHEMA.find((s) => s.key === key)!;
      const fallback = spec.type === 'string' ? spec.runnerDefault : undefined;
      // Only a run on the runner's data gets the runner's out directory.
      const data = config.dataDirectory as string | undefined;
      runner ??=
        (data === undefined || data.replace(/\/+$/, '') === dirname(RUNNER_DATA_FILE)) && (options.isRunner ?? (() => existsSync(RUNNER_DATA_FILE)))();
      if (fallback !== undefined && runner) {
        config[key] = fallback;
        continue;
      }
      const hint = fallback !== undefined ? `; ${fallback} only when ${RUNNER_DATA_FILE} exists (edge-impulse-blocks runner)` : '';
      throw userError('command line', `--${spec.param}`, `is required (${spec.help.replace(/\.$/, '')}${hint})`);
    }
  }
  return { config: config as unknown as Config, sources, unknown };
}

function describeNeed(spec: ParamSpec): string {
  if (spec.type === 'select') return `one of ${spec.valid.join('|')}`;
  if (spec.type === 'int') return 'an integer';
  if (spec.type === 'float') return 'a number';
  return 'a value';
}

/**
 * The warning line the CLI prints for unknown arguments, with a hint when an argument is one of ours
 * spelt differently (underscores, camelCase): the very mistake that silently lost the original
 * block's parameters.
 */
export function unknownArgsWarning(unknown: readonly string[]): string | undefined {
  if (unknown.length === 0) return undefined;
  const hints: string[] = [];
  for (const token of unknown) {
    if (!isFlagToken(token)) continue;
    const name = token.slice(2).split('=')[0]!;
    const normalised = name
      .replace(/_/g, '-')
      .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
      .toLowerCase();
    const spec = SPEC_BY_FLAG.get(normalised);
    if (spec && normalised !== name) hints.push(`--${name} -> did you mean --${spec.param}?`);
  }
  const hintText = hints.length > 0 ? ` (${hints.join('; ')})` : '';
  return `ignoring unknown arguments: ${unknown.map(quoteIfNeeded).join(' ')}${hintText}`;
}

const quoteIfNeeded = (token: string): string => (/^[\w.,:/=+-]+$/.test(token) ? token : JSON.stringify(token));
