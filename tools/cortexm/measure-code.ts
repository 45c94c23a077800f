/**
 * Regenerates src/export/tflite/cortex-m-code-size.ts: the flash TFLM's code takes for any set of the
 * exporter's operators on a Cortex-M4F, per kernel set, as Edge Impulse ships it (NDEBUG, -Os, CMSIS-NN on
 * or off; tools/cortexm/Makefile's flags), without linking.
 *
 *   node --import tsx tools/cortexm/measure-code.ts        (needs what test/helpers/cortexm.ts needs)
 *
 * Method: tools/cortexm/sizeprobe.cc (the interpreter driven as Edge Impulse's tflite_micro.h drives it) is
 * linked with no operator and with each operator alone (--gc-sections, newlib-nano); each link's map names
 * the input sections the linker kept (with -ffunction-sections, one per function or constant, named with
 * the object it comes from) and their sizes. A program with operators S keeps the union of the sections
 * of the links of its members (what an operator's code reaches does not depend on the others), so its code
 * is the no-operator link plus the sum of that union's sizes beyond it (alignment fill between sections
 * is left out: a few bytes per operator). Two sections are not additive: mergeable strings (priced at their
 * size in the link of all operators, where identical strings are merged) and the probe's main() (the
 * largest of the single-operator links; it grows by a few bytes per registered operator). test/export/cortexm.test.ts checks it against real links of
 * every exported model's operator set.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cortexMBuild, linkedCodeBytes } from '../../test/helpers/cortexm.js';
import { REPO_ROOT } from '../../test/helpers/ei-data.js';

const OPS = ['CONV_2D', 'FULLY_CONNECTED', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'RESHAPE', 'SOFTMAX', 'RELU', 'LOGISTIC', 'TANH', 'ADD', 'MUL'];

/** Kept input sections of a link's map that end up in flash: "section object" -> bytes. */
function keptSections(mapFile: string): Map<string, number> {
  const map = readFileSync(mapFile, 'utf8');
  // A long section name puts its address and size on the next line.
  const body = map.slice(map.indexOf('Linker script and memory map')).replace(/^( \.\S+)\n\s+(0x)/gm, '$1 $2');
  const kept = new Map<string, number>();
  for (const m of body.matchAll(/^ (\.\S+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)$/gm)) {
    if (/^\.(bss|tbss|noinit|debug|comment|ARM\.attributes|stack|heap)/.test(m[1]!)) continue;
    const size = parseInt(m[2]!, 16);
    // A function or constant with its own section is one copy however many objects emit it (inline and
    // template functions are COMDAT: the linker keeps the first): keyed by the section's name alone.
    // Sections local to an object (anonymous-namespace functions share mangled names across files, string
    // pools, plain .text/.rodata/.data) are keyed with the object; the probe's object has a temporary name.
    const object = /^\/tmp\/cc\w+\.o$/.test(m[3]!) ? 'sizeprobe.o' : m[3]!.replace(/^.*\//, '');
    const local = /_GLOBAL__N_|\.str1\.|^\.(text|rodata|data)$/.test(m[1]!);
    if (size > 0) kept.set(local ? `${m[1]} ${object}` : m[1]!, size);
  }
  return kept;
}

const out: Record<string, unknown> = {};
for (const kernels of ['cmsis-nn', 'reference'] as const) {
  const build = cortexMBuild(kernels);
  if (typeof build === 'string') throw new Error(build);
  const coreBytes = linkedCodeBytes(build, []);
  const core = keptSections(join(build.dir, 'size', 'none.map'));
  // Mergeable string sections (.str1.1) shrink when several objects' identical strings are linked
  // together; their size in the link of all eleven operators is the merged one, used for every set.
  linkedCodeBytes(build, OPS);
  const merged = keptSections(join(build.dir, 'size', `${[...OPS].sort().join('+')}.map`));
  const index = new Map<string, number>();
  const sizes: number[] = [];
  const ops: Record<string, number[]> = {};
  for (const op of OPS) {
    linkedCodeBytes(build, [op]);
    const own: number[] = [];
    for (const [name, size] of keptSections(join(build.dir, 'size', `${op}.map`))) {
      if (core.has(name)) continue;
      if (!index.has(name)) {
        index.set(name, sizes.length);
        sizes.push(Math.min(size, merged.get(name) ?? size));
      } else {
        // The probe's main() grows a little with each registration: the largest seen.
        sizes[index.get(name)!] = Math.max(sizes[index.get(name)!]!, Math.min(size, merged.get(name) ?? size));
      }
      own.push(index.get(name)!);
    }
    ops[op] = own.sort((a, b) => a - b);
  }
  out[kernels] = { coreBytes, sizes, ops };
  console.log(`${kernels}: interpreter ${coreBytes} B, ${sizes.length} sections`);
}

const text = `/**
 * Sections of TFLM's code for a Cortex-M4F and which operator keeps which (tools/cortexm/measure-code.ts
 * generates this file; rerun it, do not edit): per kernel set, \`coreBytes\` is the linked interpreter with no
 * operator, \`sizes\` every kept input section's bytes beyond it, \`ops\` the sections each operator's kernel keeps.
 */
export interface CodeSections {
  coreBytes: number;
  sizes: readonly number[];
  ops: Readonly<Record<string, readonly number[]>>;
}

// prettier-ignore
export const CORTEX_M_CODE_SECTIONS: Readonly<Record<'cmsis-nn' | 'reference', CodeSections>> = ${JSON.stringify(out)};
`;
writeFileSync(join(REPO_ROOT, 'src/export/tflite/cortex-m-code-size.ts'), text);
console.log('wrote src/export/tflite/cortex-m-code-size.ts');
