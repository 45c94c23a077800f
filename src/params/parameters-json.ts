/**
 * Everything people read about the parameters, generated from SCHEMA: Edge Impulse's parameters.json
 * (the format since October 2024: an object with version/type/info/parameters), the `--help` text and
 * the README table. Nothing here is hand-written per parameter, so they cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { BLOCK_PARAMETERS, SCHEMA, type ParamGroup, type ParamSpec, type ShowIf } from './schema.js';
import { expectation, rangeText } from './values.js';

export interface ParametersJsonItem {
  name: string;
  value: string | number | boolean;
  type: ParamSpec['type'];
  help: string;
  param: string;
  valid?: string[];
  showIf?: ShowIf;
  section?: 'advanced' | 'modelProfiling';
}

export interface ParametersJson {
  version: 1;
  type: 'machine-learning';
  info: {
    name: string;
    description: string;
    operatesOn: 'other';
    indRequiresGpu: false;
    imageInputScaling: '0..1';
    /** The block's public source, as Edge Impulse's example blocks declare it; from package.json `repository`. */
    repositoryUrl?: string;
  };
  parameters: ParametersJsonItem[];
}

/**
 * package.json's `repository` (a string or `{ url }`) as a browsable https address, or undefined when
 * package.json names none (then parameters.json has no repositoryUrl).
 */
export function packageRepositoryUrl(pkg: unknown = readPackageJson()): string | undefined {
  const repo = (pkg as { repository?: string | { url?: string } } | undefined)?.repository;
  const raw = typeof repo === 'string' ? repo : repo?.url;
  if (!raw) return undefined;
  const github = /^github:(.+)$/.exec(raw) ?? /^([\w.-]+\/[\w.-]+)$/.exec(raw);
  if (github) return `https://github.com/${github[1]!.replace(/\.git$/, '')}`;
  return raw
    .replace(/^git\+/, '')
    .replace(/^git:\/\//, 'https://')
    .replace(/\.git$/, '');
}

function readPackageJson(): unknown {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
}

export const BLOCK_INFO: ParametersJson['info'] = {
  name: 'Dendritic',
  description:
    'Trains a small classifier (Edge Impulse keyword-spotting network, dense or conv2d) with dendritic optimization and exports float32 and int8 models sized for microcontrollers.',
  // 'other' is Edge Impulse's generic classification: the block reads any flat feature vector (MFCC
  // audio included) and picks the network from the input shape. See docs/parameters.md.
  operatesOn: 'other',
  indRequiresGpu: false,
  imageInputScaling: '0..1',
};

function toItem(spec: ParamSpec): ParametersJsonItem {
  if (spec.default === undefined) throw new Error(`--${spec.param}: a block parameter needs a default`);
  const item: ParametersJsonItem = { name: spec.name, value: spec.default, type: spec.type, help: spec.help, param: spec.param };
  if (spec.type === 'select') item.valid = [...spec.valid];
  if (spec.showIf) item.showIf = { ...spec.showIf };
  if (spec.section) item.section = spec.section;
  return item;
}

export function buildParametersJson(repositoryUrl: string | undefined = packageRepositoryUrl()): ParametersJson {
  const info = { ...BLOCK_INFO, ...(repositoryUrl !== undefined ? { repositoryUrl } : {}) };
  return { version: 1, type: 'machine-learning', info, parameters: BLOCK_PARAMETERS.map(toItem) };
}

/** The exact text of the committed parameters.json. */
export function renderParametersJson(): string {
  return `${JSON.stringify(buildParametersJson(), null, 2)}\n`;
}

const GROUP_ORDER: readonly ParamGroup[] = ['Command line', 'Training', 'Dendritic optimization'];

function placeholder(spec: ParamSpec): string {
  switch (spec.type) {
    case 'flag':
      return '';
    case 'boolean':
      return ' [1|0]';
    case 'select':
      return ` <${spec.valid.join('|')}>`;
    case 'string':
      return spec.decode ? ' <list>' : ' <text>';
    default:
      return ` <${spec.type}>`;
  }
}

function defaultText(spec: ParamSpec): string {
  if (spec.requiredForTrain)
    return spec.type === 'string' && spec.runnerDefault ? `required; ${spec.runnerDefault} under edge-impulse-blocks runner` : 'required';
  if (spec.default === undefined) return 'not set';
  if (spec.type === 'flag') return 'off';
  return `default ${String(spec.default)}`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** `dendritic train --help`: grouped, with type, default, valid values/range and help. */
export function renderHelp(): string {
  const lines = [
    'Usage: dendritic train --data-directory <dir> --out-directory <dir> [options]',
    '',
    'Values are passed as Edge Impulse does: --name value (or --name=value); booleans as 1|0|true|false;',
    'flags bare. Unknown arguments are listed in a warning and otherwise ignored.',
  ];
  for (const group of GROUP_ORDER) {
    const specs = SCHEMA.filter((s) => s.group === group);
    for (const advanced of [false, true]) {
      const part = specs.filter((s) => (s.section === 'advanced') === advanced);
      if (part.length === 0) continue;
      lines.push('', advanced ? `${group} (advanced; used when --dendrites is on):` : `${group}:`);
      for (const spec of part) {
        const aliases = (spec.aliases ?? []).map((a) => `, --${a}`).join('');
        lines.push(`  --${spec.param}${aliases}${placeholder(spec)}   (${defaultText(spec)}${rangeOf(spec)})`);
        for (const text of wrap(spec.help, 92)) lines.push(`      ${text}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function rangeOf(spec: ParamSpec): string {
  return spec.type === 'int' || spec.type === 'float' ? `;${rangeText(spec.min, spec.max, spec.minExclusive)}`.replace(/^;$/, '') : '';
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function validCell(spec: ParamSpec): string {
  switch (spec.type) {
    case 'select':
      return spec.valid.map((v) => `\`${v}\``).join(', ');
    case 'boolean':
      return '`true`, `false` (passed as 1/0)';
    case 'flag':
      return 'present = on';
    case 'int':
    case 'float':
      return `${spec.type === 'int' ? 'integer' : 'number'}${rangeText(spec.min, spec.max, spec.minExclusive)}`;
    case 'string':
      return expectation(spec);
  }
}

function shownCell(spec: ParamSpec): string {
  if (!spec.showIf && !spec.section) return 'always';
  const where = spec.section ? `${spec.section}` : '';
  const when = spec.showIf ? `when \`${spec.showIf.parameter}\` ${spec.showIf.operator === 'eq' ? '=' : '≠'} ${spec.showIf.value}` : '';
  return [where, when].filter(Boolean).join(', ');
}

/** The markdown placed between the README's parameter markers. */
export function renderReadmeTable(): string {
  const lines = [
    'Generated from `src/params/schema.ts` by `node --import tsx src/params/generate.ts`; do not edit by hand.',
    'Block parameters (declared in `parameters.json`, set in Studio, passed as `--<flag> <value>`):',
    '',
    '| Flag | Label | Type | Default | Valid values | Shown in Studio | Used by | Description |',
    '|---|---|---|---|---|---|---|---|',
    ...BLOCK_PARAMETERS.map(
      (s) =>
        `| \`--${s.param}\` | ${cell(s.name)} | ${s.type} | \`${String(s.default)}\` | ${cell(validCell(s))} | ${cell(shownCell(s))} | ${s.consumer} | ${cell(s.help)} |`,
    ),
    '',
    'Command-line options (not block parameters):',
    '',
    '| Flag | Type | Default | Description |',
    '|---|---|---|---|',
    ...SCHEMA.filter((s) => s.cliOnly).map((s) => {
      const aliases = (s.aliases ?? []).map((a) => ` (alias \`--${a}\`)`).join('');
      return `| \`--${s.param}\`${aliases} | ${s.type} | ${defaultText(s)} | ${cell(s.help)} |`;
    }),
  ];
  return lines.join('\n');
}
