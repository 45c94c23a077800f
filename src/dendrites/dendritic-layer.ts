import { paramView, type ForwardContext, type Layer, type Param, type WrappableLayer } from '../engine/layer.js';
import type { Rng } from '../engine/rng.js';
import { reuse, type Shape, type Tensor } from '../engine/tensor.js';
import type { GraphBuilder } from '../engine/graph.js';
import { userError } from '../errors.js';
import { DENDRITE_ACTIVATIONS, type Config, type ConfigKey } from '../params/schema.js';
import { kernels, type Activation } from '../engine/kernels.js';
import { LowRankBranch, RankSpaceBranch, pointwiseStage, stageLike } from './low-rank.js';

/**
 * Where a set's non-linearity sits (dendrite-form).
 * gated: on the layer's C output channels, gated after it: out += v ⊙ f(D(x) + cascade); TFLite needs
 *   the branch, f, MUL v and ADD per set per layer (+ MUL w, ADD per earlier set).
 * merged: in the branch's rank space: out += v ⊙ up(f(down(x))) (RankSpaceBranch), no cascade. v folds
 *   into up's weights at export and every set of a layer merges: one down with k·r outputs, one f, one
 *   up (k·r -> C), one ADD, whatever k is.
 * linear: no non-linearity at all: out += v ⊙ D(x), D a copy of the layer (rank 0) or a LowRankBranch,
 *   no cascade. The wrapped layer is linear too (its activation is a separate layer after the wrapper),
 *   so the sum is one layer of the same geometry: W + Σ diag(v_i) K_i, b + Σ v_i ⊙ b_i (K_i = down·up
 *   for rank r). Export writes that one layer (`foldedWeights`): the deployed graph is the plain
 *   configured network, the sets cost nothing on the device; they only change how training moves the
 *   weights (a linear over-parameterization added in cycles, as in ExpandNets).
 */
export type DendriteForm = Config['dendriteForm'];
export const DENDRITE_FORMS: readonly DendriteForm[] = ['gated', 'merged', 'linear'];

/**
 * A new set's slice of the configuration (named, defaulted and validated in params/schema.ts):
 * - candidateWeightInit: new branch weights are N(0,1) x this (the reference's 0.01);
 * - dendriteRank: 0: the branch is a full copy of the layer (the reference); r >= 1: a LowRankBranch with r
 *   channels (LeCun-normal init; candidateWeightInit does not apply), costing about r/C of a copy;
 * - dendriteForm: gated or merged, see DendriteForm.
 */
export const DENDRITE_SET_KEYS = ['dendriteActivation', 'candidateWeightInit', 'dendriteRank', 'dendriteForm'] as const satisfies readonly ConfigKey[];
export type DendriteSetConfig = Pick<Config, (typeof DENDRITE_SET_KEYS)[number]>;

/**
 * A fresh branch D for `base`. gated: a sibling (rank 0) or a low-rank branch; merged: a RankSpaceBranch
 * (f inside the branch; rank 0: f of a full copy).
 */
export function newBranch(base: WrappableLayer, name: string, rng: Rng, c: DendriteSetConfig): WrappableLayer {
  if (c.dendriteForm === 'merged') return new RankSpaceBranch(base, name, c.dendriteRank, c.dendriteActivation, rng, c.candidateWeightInit);
  // gated and linear: the same branch; gated applies f after it (in DendriticLayer), linear never does.
  return c.dendriteRank === 0 ? base.sibling(name, rng, c.candidateWeightInit) : new LowRankBranch(base, name, c.dendriteRank, rng);
}

/** One dendrite set on one layer: its branch D_i, output weight v_i and cascade weights w_ij (j < i). */
interface DendriteSet {
  branch: WrappableLayer;
  activation: Activation;
  form: DendriteForm;
  v: Param;
  /** w[j] weighs earlier dendrite j's output into this one's pre-activation. */
  w: Param[];
  /** gated: d_i = f(pre_i); merged: d_i = D_i(x) (f inside the branch, before v); linear: d_i = D_i(x). [N, ..., C], from the last forward. */
  d: Float32Array | undefined;
  /** dL/dd_i, then dL/dpre_i in place during backward. */
  g: Float32Array | undefined;
}

/** What a caller needs to install a set whose branch was trained elsewhere (correlation training). */
export interface PreparedSet {
  branch: WrappableLayer;
  activation: Activation;
  /** Cascade weights from each existing set, each of length outChannels (copied); none in the merged form. */
  cascade: Float32Array[];
  /** gated (when absent), merged or linear; a merged set's branch is a RankSpaceBranch with this activation. */
  form?: DendriteForm;
}

/**
 * A wrappable layer L with dendrite sets:
 *   out = L(x) + sum_i v_i ⊙ d_i,   d_i = f_i(D_i(x) + sum_{j<i} w_ij ⊙ d_j)     (form gated)
 *   out = L(x) + sum_i v_i ⊙ up_i(f_i(down_i(x)))                             (form merged; no w)
 * v and w hold one weight per output channel, broadcast over the channels-last last axis. New v and w
 * start at zero, so adding a set leaves the function unchanged. The wrapper keeps L's name, so the base
 * parameters keep their names ("<layer>/kernel") and checkpoints stay compatible across wrapping.
 */
export class DendriticLayer implements Layer {
  readonly kind = 'dendritic';
  name: string;
  readonly base: WrappableLayer;
  readonly outChannels: number;
  /**
   * Called at the start of backward with the layer's input and dL/d(out): the error signal of each output
   * neuron. Correlation training listens here; nothing else should.
   */
  errorProbe: ((x: Tensor, dy: Tensor) => void) | undefined;
  private readonly sets: DendriteSet[] = [];
  private x: Tensor | undefined;
  private y: Float32Array | undefined;
  private dx: Float32Array | undefined;
  private outShape: number[] | undefined;

  constructor(base: WrappableLayer) {
    this.base = base;
    this.name = base.name;
    this.outChannels = base.outChannels;
  }

  get setCount(): number {
    return this.sets.length;
  }

  /** Form of the layer's sets (all sets of a layer share one); gated when it has none. */
  get form(): DendriteForm {
    return this.sets[0]?.form ?? 'gated';
  }

  /** Activation of set i. */
  activationOf(i: number): Activation {
    return this.set(i).activation;
  }

  /** Set i's branch layer D_i (for inspection and correlation training). */
  branchOf(i: number): WrappableLayer {
    return this.set(i).branch;
  }

  /** d_i from the last forward (valid until the next forward). */
  dendriteOutput(i: number): Float32Array {
    const d = this.set(i).d;
    if (d === undefined) throw new Error(`DendriticLayer(${this.name}): dendrite ${i} output read before forward`);
    return d;
  }

  /** Input of the last forward (valid while the previous layer's buffer is). */
  get lastInput(): Tensor | undefined {
    return this.x;
  }

  /** Adds a set with a fresh branch (see newBranch) and zero v, w: the outputs do not change. */
  addSet(rng: Rng, c: DendriteSetConfig): void {
    const i = this.sets.length;
    const form = c.dendriteForm;
    const branch = newBranch(this.base, `${this.name}/dendrite${i}`, rng, c);
    const cascade = form !== 'gated' ? [] : this.sets.map(() => new Float32Array(this.outChannels));
    this.installSet({ branch, activation: c.dendriteActivation, cascade, form });
  }

  /** Installs a prepared branch with zero output weight v (its cascade weights are taken as given). */
  installSet(p: PreparedSet): void {
    checkActivation(p.activation);
    const form = p.form ?? 'gated';
    checkForm(form);
    const i = this.sets.length;
    const C = this.outChannels;
    if (p.branch.outChannels !== C) throw new Error(`DendriticLayer(${this.name}): branch has ${p.branch.outChannels} channels, expected ${C}`);
    if (i > 0 && this.form !== form) throw new Error(`DendriticLayer(${this.name}): a ${form} set cannot join ${this.form} sets`);
    if (form === 'merged') {
      if (!(p.branch instanceof RankSpaceBranch) || p.branch.activation !== p.activation) {
        throw new Error(`DendriticLayer(${this.name}): a merged set needs a RankSpaceBranch with activation ${p.activation}`);
      }
      if (p.cascade.length !== 0) throw new Error(`DendriticLayer(${this.name}): merged sets have no cascade weights`);
    } else if (form === 'linear') {
      if (p.branch instanceof RankSpaceBranch) throw new Error(`DendriticLayer(${this.name}): a linear set's branch has no activation inside`);
      if (p.cascade.length !== 0) throw new Error(`DendriticLayer(${this.name}): linear sets have no cascade weights`);
    } else if (p.cascade.length !== i || p.cascade.some((w) => w.length !== C)) {
      throw new Error(`DendriticLayer(${this.name}): set ${i} needs ${i} cascade vectors of length ${C}`);
    }
    p.branch.name = `${this.name}/dendrite${i}`;
    this.sets.push({
      branch: p.branch,
      activation: p.activation,
      form,
      v: vectorParam(`v${i}`, new Float32Array(C)),
      w: p.cascade.map((w, j) => vectorParam(`w${i}_${j}`, w.slice())),
      d: undefined,
      g: undefined,
    });
  }

  /**
   * Sets set i's output weight v_i to `value` on every channel. A linear set installed at v = 1 is an
   * expansion (dendrite-route expand): W + K_i from the first step, rather than a correction grown from 0.
   */
  setOutputWeight(i: number, value: number): void {
    this.set(i).v.value.fill(value);
  }

  removeLastSet(): void {
    if (this.sets.length === 0) throw new Error(`DendriticLayer(${this.name}): no dendrite set to remove`);
    this.sets.pop();
  }

  outputShape(inputShape: Shape): number[] {
    return this.base.outputShape(inputShape);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const b = this.base.forward(x, ctx);
    const n = b.data.length;
    const C = this.outChannels;
    const y = (this.y = reuse(this.y, n));
    y.set(b.data);
    for (const [i, s] of this.sets.entries()) {
      const z = s.branch.forward(x, ctx).data;
      const d = (s.d = reuse(s.d, n));
      d.set(z);
      if (s.form === 'gated') {
        for (let j = 0; j < i; j++) addScaled(d, this.sets[j]!.d!, s.w[j]!.value, C);
        activate(s.activation, d);
      }
      addScaled(y, d, s.v.value, C);
    }
    this.x = x;
    this.outShape = b.shape;
    return { data: y, shape: b.shape };
  }

  backward(dy: Tensor): Tensor {
    const x = this.requireInput();
    const dx = (this.dx = reuse(this.dx, x.data.length));
    dx.set(this.base.backward(dy).data);
    this.backwardDendrites(dy, (gpre, branch) => {
      kernels.addInto(dx, branch.backward(gpre).data);
    });
    return { data: dx, shape: x.shape };
  }

  backwardParamsOnly(dy: Tensor): void {
    const paramsOnly = (l: Layer, g: Tensor): void => {
      if (l.backwardParamsOnly !== undefined) l.backwardParamsOnly(g);
      else l.backward(g);
    };
    this.requireInput();
    paramsOnly(this.base, dy);
    this.backwardDendrites(dy, (gpre, branch) => paramsOnly(branch, gpre));
  }

  /**
   * Walks the sets last to first: dL/dd_i = v_i ⊙ dy + sum_{k>i} w_ki ⊙ dL/dpre_k, then
   * dL/dpre_i = dL/dd_i * f'(pre_i), which feeds branch i, v_i, and w_ij. Merged form: dL/dD_i = v_i ⊙ dy
   * feeds branch i (which applies f' itself), and dL/dv_i = sum dy ⊙ D_i(x).
   */
  private backwardDendrites(dy: Tensor, intoBranch: (gpre: Tensor, branch: WrappableLayer) => void): void {
    const x = this.requireInput();
    this.errorProbe?.(x, dy);
    const C = this.outChannels;
    const n = dy.data.length;
    const shape = this.outShape!;
    for (const s of this.sets) {
      s.g = reuse(s.g, n);
      s.g.fill(0);
    }
    for (let i = this.sets.length - 1; i >= 0; i--) {
      const s = this.sets[i]!;
      const g = s.g!;
      const d = s.d!;
      accumulateChannelDot(dy.data, d, s.v.grad, C);
      addScaled(g, dy.data, s.v.value, C);
      if (s.form !== 'gated') {
        // merged: f is inside the branch, which applies f' itself; linear: there is no f.
        intoBranch({ data: g, shape }, s.branch);
        continue;
      }
      derive(s.activation, d, g);
      for (let j = 0; j < i; j++) {
        const dj = this.sets[j]!;
        accumulateChannelDot(g, dj.d!, s.w[j]!.grad, C);
        addScaled(dj.g!, g, s.w[j]!.value, C);
      }
      intoBranch({ data: g, shape }, s.branch);
    }
  }

  params(): Param[] {
    const out: Param[] = [...this.base.params()];
    for (const [i, s] of this.sets.entries()) {
      for (const p of s.branch.params()) out.push(paramView(`dendrite${i}/${p.name}`, p));
      out.push(s.v, ...s.w);
    }
    return out;
  }

  /** Base params only (the neurons). */
  baseParams(): Param[] {
    return this.base.params();
  }

  /** Dendrite params only (branches, v, w). */
  dendriteParams(): Param[] {
    const base = new Set(this.base.params().map((p) => p.value));
    return this.params().filter((p) => !base.has(p.value));
  }

  freezeBase(frozen: boolean): void {
    for (const p of this.base.params()) p.trainable = !frozen;
  }

  freezeDendrites(frozen: boolean): void {
    for (const p of this.dendriteParams()) p.trainable = !frozen;
  }

  macs(inputShape: Shape): number {
    // linear sets fold into the layer at export: the deployed work is the layer's own.
    if (this.form === 'linear') return this.base.macs(inputShape);
    // gated and merged: the branches' conv/dense; their element-wise work (merged: the ADD into the output;
    // gated: v ⊙ d and the cascade) is not a MAC by the rule (Layer.macs) and is priced in instructions.
    let n = this.base.macs(inputShape);
    for (const s of this.sets) n += s.branch.macs(inputShape);
    return n;
  }

  toGraph(g: GraphBuilder, input: string, inputShape: Shape): string {
    if (this.form === 'linear') {
      const { kernel, bias } = this.foldedWeights();
      return stageLike(this.base, this.name, this.outChannels, kernel, bias).toGraph(g, input, inputShape);
    }
    let out = this.base.toGraph(g, input, inputShape);
    const shape = [1, ...this.outputShape(inputShape)];
    if (this.form === 'merged') return this.mergedToGraph(g, input, inputShape, out, shape);
    const ds: string[] = [];
    for (const [i, s] of this.sets.entries()) {
      let pre = s.branch.toGraph(g, input, inputShape);
      for (let j = 0; j < i; j++) {
        const term = g.add(`${this.name}/w${i}_${j}`, [ds[j]!], shape, { op: 'channel_affine', scale: s.w[j]!.value.slice() });
        pre = g.add(`${this.name}/pre${i}`, [pre, term], shape, { op: 'add' });
      }
      const d = g.add(`${this.name}/d${i}`, [pre], shape, { op: s.activation });
      ds.push(d);
      const contribution = g.add(`${this.name}/v${i}`, [d], shape, { op: 'channel_affine', scale: s.v.value.slice() });
      out = g.add(`${this.name}/out${i}`, [out, contribution], shape, { op: 'add' });
    }
    return out;
  }

  /**
   * The linear form as one layer of the base's geometry: kernel [P, C] (P kernel elements per output
   * channel, the layout of every dense/conv stage) = W + Σ_i diag(v_i) K_i and bias b + Σ_i v_i ⊙ b_i,
   * where K_i, b_i are branch i's own kernel and bias (rank 0), or down·up and down.bias·up + up.bias
   * (rank r). Exact up to float rounding: every term is linear in x, and the same zero padding applies to
   * the base and to each branch (same kernel, stride, padding).
   */
  foldedWeights(): { kernel: Float32Array; bias: Float32Array } {
    if (this.sets.some((s) => s.form !== 'linear')) throw new Error(`DendriticLayer(${this.name}): only linear sets fold into the layer`);
    const C = this.outChannels;
    const [w, b] = this.base.params().map((p) => p.value) as [Float32Array, Float32Array];
    const kernel = w.slice();
    const bias = b.slice();
    const P = kernel.length / C;
    for (const s of this.sets) {
      const v = s.v.value;
      const { kernel: k, bias: kb } = linearBranchWeights(s.branch, P, C);
      for (let p = 0; p < P; p++) for (let c = 0; c < C; c++) kernel[p * C + c] += v[c]! * k[p * C + c]!;
      for (let c = 0; c < C; c++) bias[c] += v[c]! * kb[c]!;
    }
    return { kernel, bias };
  }

  /**
   * The merged form's export: the sets that share an activation (all of them, as the cycle adds them)
   * become one `down` with every set's down kernels side by side (k·r outputs, the layer's geometry),
   * one activation, one per-position `up` (k·r -> C) whose rows are each set's up kernel with its column
   * c scaled by v_i[c] (rank 0: the identity scaled by v_i) and whose bias is sum_i v_i ⊙ up_i.bias,
   * and one ADD into the base output: 4 operators however many sets. Exact: it computes
   * sum_i v_i ⊙ up_i(f(down_i(x))) term for term.
   */
  private mergedToGraph(g: GraphBuilder, input: string, inputShape: Shape, baseOut: string, shape: number[]): string {
    const C = this.outChannels;
    const groups = new Map<Activation, DendriteSet[]>();
    for (const s of this.sets) groups.set(s.activation, [...(groups.get(s.activation) ?? []), s]);
    let out = baseOut;
    let gi = 0;
    for (const [activation, sets] of groups) {
      const suffix = groups.size === 1 ? '' : `_${gi++}`;
      const branches = sets.map((s) => s.branch as RankSpaceBranch);
      const inner = branches.map((b) => b.innerChannels);
      const R = inner.reduce((a, b) => a + b, 0);
      // down: concatenate along the output axis (kernel [P, r_i] row-major for every stage kind).
      const P = branches[0]!.down.params()[0]!.value.length / inner[0]!;
      const kernel = new Float32Array(P * R);
      const bias = new Float32Array(R);
      let off = 0;
      branches.forEach((b, bi) => {
        const r = inner[bi]!;
        const [k, kb] = b.down.params().map((p) => p.value) as [Float32Array, Float32Array];
        for (let p = 0; p < P; p++) for (let o = 0; o < r; o++) kernel[p * R + off + o] = k[p * r + o]!;
        bias.set(kb, off);
        off += r;
      });
      const down = stageLike(this.base, `${this.name}/dendrites${suffix}/down`, R, kernel, bias);
      const h = down.toGraph(g, input, inputShape);
      const hs = down.outputShape(inputShape);
      const a = g.add(`${this.name}/dendrites${suffix}/f`, [h], [1, ...hs], { op: activation });
      // up: stack the rows (kernel [r_i, C]), each column scaled by the set's gate.
      const upKernel = new Float32Array(R * C);
      const upBias = new Float32Array(C);
      off = 0;
      branches.forEach((b, bi) => {
        const r = inner[bi]!;
        const v = sets[bi]!.v.value;
        const [u, ub] = b.up ? (b.up.params().map((p) => p.value) as [Float32Array, Float32Array]) : [undefined, undefined];
        for (let i = 0; i < r; i++) {
          for (let c = 0; c < C; c++) upKernel[(off + i) * C + c] = (u ? u[i * C + c]! : i === c ? 1 : 0) * v[c]!;
        }
        if (ub) for (let c = 0; c < C; c++) upBias[c] += v[c]! * ub[c]!;
        off += r;
      });
      const up = pointwiseStage(this.base, `${this.name}/dendrites${suffix}/up`, R, C, upKernel, upBias);
      const u = up.toGraph(g, a, hs);
      out = g.add(`${this.name}/out${suffix}`, [out, u], shape, { op: 'add' });
    }
    return out;
  }

  private set(i: number): DendriteSet {
    const s = this.sets[i];
    if (s === undefined) throw new Error(`DendriticLayer(${this.name}): no dendrite set ${i} (has ${this.sets.length})`);
    return s;
  }

  private requireInput(): Tensor {
    if (this.x === undefined) throw new Error(`DendriticLayer(${this.name}): backward called before forward`);
    return this.x;
  }
}

/** A linear branch's map as one [P, C] kernel and [C] bias: its own (a copy of the layer) or down·up. */
function linearBranchWeights(branch: WrappableLayer, P: number, C: number): { kernel: Float32Array; bias: Float32Array } {
  if (!(branch instanceof LowRankBranch)) {
    const [k, b] = branch.params().map((p) => p.value) as [Float32Array, Float32Array];
    if (k.length !== P * C || b.length !== C) throw new Error(`dendrites: branch '${branch.name}' does not match its layer's shape`);
    return { kernel: k, bias: b };
  }
  const r = branch.rank;
  const [dk, db] = branch.down.params().map((p) => p.value) as [Float32Array, Float32Array];
  const [uk, ub] = branch.up.params().map((p) => p.value) as [Float32Array, Float32Array];
  const kernel = new Float32Array(P * C);
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < r; j++) {
      const d = dk[p * r + j]!;
      for (let c = 0; c < C; c++) kernel[p * C + c] += d * uk[j * C + c]!;
    }
  }
  const bias = ub.slice();
  for (let j = 0; j < r; j++) for (let c = 0; c < C; c++) bias[c] += db[j]! * uk[j * C + c]!;
  return { kernel, bias };
}

function checkActivation(a: string): void {
  if (!(DENDRITE_ACTIVATIONS as readonly string[]).includes(a)) {
    throw userError('parameters', 'dendrite-activation', `expected one of ${DENDRITE_ACTIVATIONS.join(', ')}, got '${a}'`);
  }
}

function checkForm(f: string): void {
  if (!(DENDRITE_FORMS as readonly string[]).includes(f)) {
    throw userError('parameters', 'dendrite-form', `expected one of ${DENDRITE_FORMS.join(', ')}, got '${f}'`);
  }
}

function vectorParam(name: string, value: Float32Array): Param {
  return { name, shape: [value.length], value, grad: new Float32Array(value.length), trainable: true };
}

/** acc[k] += src[k] * scale[k mod C] (channels-last broadcast). Native when available (src/engine/kernels.ts). */
export function addScaled(acc: Float32Array, src: Float32Array, scale: Float32Array, C: number): void {
  kernels.addScaled(acc, src, scale, C);
}

/** out[c] += sum over positions of a[k] * b[k] for channel c. */
export function accumulateChannelDot(a: Float32Array, b: Float32Array, out: Float32Array, C: number): void {
  kernels.channelDot(a, b, out, C);
}

/** v = f(v) in place; sigmoid is 1 / (1 + exp(-v)). */
export function activate(f: Activation, v: Float32Array): void {
  kernels.activate(f, v);
}

/** g *= f'(pre), written with d = f(pre). */
export function derive(f: Activation, d: Float32Array, g: Float32Array): void {
  kernels.activationBackward(f, d, g);
}
