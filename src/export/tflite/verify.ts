/**
 * Structural check of a .tflite file from outside (predict's input): every table, vector and buffer the
 * model's tensors and operators use must lie inside the file. The flatbuffers reader does not check
 * bounds (a truncated file reads as zeros and garbage), and the native interpreter must never see such
 * a file. Returns a reason for the first problem, or undefined for a sound file.
 */
class OutOfBounds extends Error {}

export function tfliteStructureProblem(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (pos: number, size: number, what: string): void => {
    if (!(Number.isInteger(pos) && pos >= 0 && pos + size <= bytes.length)) {
      throw new OutOfBounds(`${what} at byte ${pos} lies outside the ${bytes.length}-byte file`);
    }
  };
  const u32 = (pos: number, what: string): number => (need(pos, 4, what), view.getUint32(pos, true));
  const i32 = (pos: number, what: string): number => (need(pos, 4, what), view.getInt32(pos, true));
  const u16 = (pos: number, what: string): number => (need(pos, 2, what), view.getUint16(pos, true));
  /** Position of field `id` in the table at `t`, or 0 when absent. */
  const field = (t: number, id: number, what: string): number => {
    const vt = t - i32(t, what);
    const vtLen = u16(vt, `${what} vtable`);
    if (4 + 2 * id >= vtLen) return 0;
    const off = u16(vt + 4 + 2 * id, `${what} vtable`);
    return off ? t + off : 0;
  };
  const indirect = (pos: number, what: string): number => pos + u32(pos, what);
  /** A vector field: [start, length] with every element of `elem` bytes inside the file. */
  const vector = (t: number, id: number, elem: number, what: string): [number, number] => {
    const f = field(t, id, what);
    if (!f) return [0, 0];
    const v = indirect(f, what);
    const n = u32(v, what);
    need(v + 4, n * elem, what);
    return [v + 4, n];
  };
  try {
    const model = indirect(0, 'model table');
    const [bufStart, bufCount] = vector(model, 4, 4, 'buffers');
    for (let i = 0; i < bufCount; i++) vector(indirect(bufStart + 4 * i, `buffer ${i}`), 0, 1, `buffer ${i} data`);
    const [codeStart, codeCount] = vector(model, 1, 4, 'operator codes');
    for (let i = 0; i < codeCount; i++) field(indirect(codeStart + 4 * i, `operator code ${i}`), 0, `operator code ${i}`);
    const [sgStart, sgCount] = vector(model, 2, 4, 'subgraphs');
    if (sgCount === 0) return 'the model has no subgraph';
    for (let s = 0; s < sgCount; s++) {
      const sg = indirect(sgStart + 4 * s, `subgraph ${s}`);
      const [tStart, tCount] = vector(sg, 0, 4, 'tensors');
      for (let i = 0; i < tCount; i++) {
        const t = indirect(tStart + 4 * i, `tensor ${i}`);
        vector(t, 0, 4, `tensor ${i} shape`);
        const q = field(t, 4, `tensor ${i}`);
        if (q) {
          const qt = indirect(q, `tensor ${i} quantization`);
          vector(qt, 2, 4, `tensor ${i} scales`);
          vector(qt, 3, 8, `tensor ${i} zero points`);
        }
      }
      const checkIndices = (start: number, n: number, what: string): void => {
        for (let k = 0; k < n; k++) {
          const index = i32(start + 4 * k, what);
          if (index >= tCount) throw new OutOfBounds(`${what} names tensor ${index}, the subgraph has ${tCount}`);
        }
      };
      checkIndices(...vector(sg, 1, 4, 'inputs'), 'inputs');
      checkIndices(...vector(sg, 2, 4, 'outputs'), 'outputs');
      const [opStart, opCount] = vector(sg, 3, 4, 'operators');
      for (let i = 0; i < opCount; i++) {
        const op = indirect(opStart + 4 * i, `operator ${i}`);
        checkIndices(...vector(op, 1, 4, `operator ${i} inputs`), `operator ${i} inputs`);
        checkIndices(...vector(op, 2, 4, `operator ${i} outputs`), `operator ${i} outputs`);
      }
    }
    return undefined;
  } catch (err) {
    if (err instanceof OutOfBounds) return err.message;
    throw err;
  }
}
