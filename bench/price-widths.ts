/**
 * Prices plain networks of one family at several widths on the device, as `train` prices them (the int8
 * export of src/train/device-budget.ts's priceInt8, then src/export/tflite/device-cost.ts): parameters,
 * MACs (docs/report-json.md, "MACs"), Cortex-M4F instructions per inference with CMSIS-NN (Edge Impulse's
 * default there; Invoke and run_nn_inference's per-call setup, from the instruction model the tests check
 * against QEMU), and TFLM RAM and flash for both kernel sets. Prints a markdown table.
 *
 * None of these figures depends on the trained weights: each width is priced twice, with two different
 * random weights and calibration sets, and the script fails if any figure differs.
 *
 * Run (the docs' tables):
 *   node --import tsx bench/price-widths.ts --family ei-kws --features 650 --classes 10 --widths 0.5,0.75,1,1.25,1.5,2,3
 *   node --import tsx bench/price-widths.ts --family conv2d --input-shape 8,8,1 --classes 10 --widths 0.25,0.5,1
 */
import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/rng.js';
import { buildModel, type ModelKind } from '../src/models/select.js';
import { exportTfliteInt8 } from '../src/export/tflite/quantize.js';
import { tfliteDeviceCost } from '../src/export/tflite/device-cost.js';

const { values } = parseArgs({
  options: {
    family: { type: 'string', default: 'ei-kws' },
    features: { type: 'string' },
    'input-shape': { type: 'string' },
    classes: { type: 'string', default: '10' },
    widths: { type: 'string', default: '0.5,0.75,1,1.25,1.5,2,3' },
  },
});
const inputShape = values['input-shape']?.split(',').map(Number);
const features = values.features !== undefined ? Number(values.features) : inputShape ? inputShape.reduce((a, b) => a * b, 1) : 650;
const classes = Number(values.classes);
const widths = values.widths!.split(',').map(Number);

interface Price {
  params: number;
  macs: number;
  invoke: number;
  setup: number;
  cmsisRam: number;
  cmsisFlash: number;
  refRam: number;
  refFlash: number;
  operators: number;
}

function price(width: number, seed: number): Price {
  const model = buildModel({ kind: values.family as ModelKind, features, inputShape, classes, width, dropout: 0, seed });
  const rng = new Rng(seed + 100);
  for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
  const rows = 32;
  const x = Float32Array.from({ length: rows * features }, () => rng.normal());
  // exactly priceInt8's path: the int8 export calibrated on the rows, then the file's device cost
  const d = tfliteDeviceCost(exportTfliteInt8(model.toGraph(), x, rows).bytes);
  const m = d.cortexM.cmsisNn;
  return {
    params: model.parameterCount(),
    macs: d.macs,
    invoke: m.invokeInstructions,
    setup: m.setupInstructions,
    cmsisRam: m.ramBytes,
    cmsisFlash: m.flashBytes,
    refRam: d.ramBytes,
    refFlash: d.flashBytes,
    operators: d.operators,
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
console.log(`${values.family}, ${inputShape ? `input ${inputShape.join('x')}` : `${features} features`}, ${classes} classes; int8 TFLite, Cortex-M4F`);
console.log('');
console.log('| width | params | MACs | instructions, CMSIS-NN (Invoke + setup = total) | RAM CMSIS-NN / reference | flash CMSIS-NN / reference | operators |');
console.log('|---|---|---|---|---|---|---|');
for (const w of widths) {
  const a = price(w, 1);
  const b = price(w, 2);
  for (const k of Object.keys(a) as (keyof Price)[]) {
    if (a[k] !== b[k]) throw new Error(`width ${w}: ${k} depends on the weights (${a[k]} vs ${b[k]})`);
  }
  console.log(
    `| ${w} | ${int(a.params)} | ${int(a.macs)} | ${int(a.invoke)} + ${int(a.setup)} = ${int(a.invoke + a.setup)} | ${int(a.cmsisRam)} / ${int(a.refRam)} B | ${kib(a.cmsisFlash)} / ${kib(a.refFlash)} | ${a.operators} |`,
  );
}
