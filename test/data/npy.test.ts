import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readNpyFloat32, readNpyHeader, readNpyNumbers, writeNpy } from '../../src/data/npy.js';
import { python, tempDir, userErrorMessage } from './helpers.js';
import { needs } from '../helpers/prerequisites.js';

const DTYPES = ['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

describe('npy reader against numpy-written files', { skip: needs('numpy') }, () => {
  const { dir, cleanup } = tempDir('npy');
  let expected: Record<string, number[]>;
  after(cleanup);
  before(() => {
    // numpy writes every dtype x byte order x format version; its tolist() is the oracle
    const out = python(
      `
d = sys.argv[1]
exp = {}
base = np.array([[0, 1, -2], [3, -4, 5], [100, -100, 7], [-128, 127, 9]], dtype=np.float64)
for dt in ${JSON.stringify(DTYPES)}:
    for order in '<>':
        for ver in [(1, 0), (2, 0), (3, 0)]:
            a = base.copy()
            if dt.startswith('uint') or dt == 'bool':
                a = np.abs(a)
            if dt.startswith('float'):
                a = a * 1.25 + 0.1
            if dt == 'bool':
                a = (a % 2) == 1
            arr = a.astype(np.dtype(dt).newbyteorder(order if dt not in ('int8', 'uint8', 'bool') else '|'))
            name = f'{dt}_{"le" if order == "<" else "be"}_v{ver[0]}.npy'
            with open(f'{d}/{name}', 'wb') as f:
                np.lib.format.write_array(f, arr, version=ver)
            exp[name] = arr.astype(np.float64).ravel().tolist()
big = (np.arange(300000, dtype=np.float64) * 0.37 - 5000).astype('>f8')
np.save(f'{d}/big_be_f8.npy', big)
exp['big_be_f8.npy'] = big.astype(np.float32).astype(np.float64).tolist()
np.save(f'{d}/nhwc.npy', np.arange(2 * 3 * 4 * 1, dtype=np.float32).reshape(2, 3, 4, 1))
np.save(f'{d}/fortran.npy', np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(f'{d}/complex.npy', np.zeros(3, dtype=np.complex64))
np.save(f'{d}/half.npy', np.zeros(3, dtype=np.float16))
np.save(f'{d}/record.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(f'{d}/i64_huge.npy', np.array([1, 2**60], dtype=np.int64))
np.save(f'{d}/i64_ok.npy', np.array([-(2**53) + 1, 2**53 - 1, 7], dtype=np.int64))
np.save(f'{d}/empty.npy', np.zeros((0, 5), dtype=np.float32))
print(json.dumps(exp))
`,
      [dir],
    );
    expected = JSON.parse(out) as Record<string, number[]>;
  });

  it('reads every dtype, byte order and version 1/2/3 exactly (as float64 numbers)', () => {
    let files = 0;
    for (const [name, values] of Object.entries(expected)) {
      if (name.startsWith('big')) continue;
      const arr = readNpyNumbers(join(dir, name));
      assert.deepEqual(arr.shape, [4, 3], name);
      assert.equal(arr.dtype, name.split('_')[0], name);
      assert.deepEqual(Array.from(arr.data), values, name);
      files++;
    }
    assert.equal(files, DTYPES.length * 2 * 3);
  });

  it('reads as float32 with float32 rounding', () => {
    for (const name of ['float64_be_v2.npy', 'int64_le_v3.npy', 'uint16_be_v1.npy']) {
      const arr = readNpyFloat32(join(dir, name));
      assert.deepEqual(Array.from(arr.data), Array.from(Float32Array.from(expected[name]!)), name);
    }
  });

  it('reads a multi-chunk big-endian float64 file (2.4 MB, chunks of 1 MB)', () => {
    const arr = readNpyFloat32(join(dir, 'big_be_f8.npy'));
    assert.deepEqual(arr.shape, [300000]);
    assert.equal(arr.data.length, 300000);
    const exp = expected['big_be_f8.npy']!;
    for (let i = 0; i < exp.length; i++) if (arr.data[i] !== exp[i]) assert.fail(`element ${i}: ${arr.data[i]} != ${exp[i]}`);
  });

  it('keeps the N x H x W x C shape and the empty shape', () => {
    const a = readNpyFloat32(join(dir, 'nhwc.npy'));
    assert.deepEqual(a.shape, [2, 3, 4, 1]);
    assert.deepEqual(Array.from(a.data), Array.from({ length: 24 }, (_, i) => i));
    const e = readNpyFloat32(join(dir, 'empty.npy'));
    assert.deepEqual(e.shape, [0, 5]);
    assert.equal(e.data.length, 0);
  });

  it('int64 within +-2^53 converts exactly; beyond is a UserError naming the element', () => {
    assert.deepEqual(Array.from(readNpyNumbers(join(dir, 'i64_ok.npy')).data), [-(2 ** 53) + 1, 2 ** 53 - 1, 7]);
    const msg = userErrorMessage(() => readNpyNumbers(join(dir, 'i64_huge.npy')));
    assert.match(msg, /i64_huge\.npy: data: element 1 = 1152921504606846976 is outside/);
  });

  it('rejects Fortran order, complex, float16 and record dtypes with the file and field named', () => {
    assert.match(userErrorMessage(() => readNpyFloat32(join(dir, 'fortran.npy'))), /fortran\.npy: fortran_order: Fortran .* not supported/);
    assert.match(userErrorMessage(() => readNpyFloat32(join(dir, 'complex.npy'))), /complex\.npy: descr: dtype '<c8' is not supported: expected float32/);
    assert.match(userErrorMessage(() => readNpyFloat32(join(dir, 'half.npy'))), /half\.npy: descr: dtype '<f2' is not supported/);
    assert.match(userErrorMessage(() => readNpyFloat32(join(dir, 'record.npy'))), /record\.npy: descr: structured .* not supported/);
  });
});

describe('npy reader on corrupt files', () => {
  const { dir, cleanup } = tempDir('npy-bad');
  after(cleanup);
  const header = (dict: string, major = 1): Buffer => {
    const lenBytes = major === 1 ? 2 : 4;
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
    const len = Buffer.alloc(lenBytes);
    if (major === 1) len.writeUInt16LE(dict.length);
    else len.writeUInt32LE(dict.length);
    return Buffer.concat([pre, len, Buffer.from(dict, 'latin1')]);
  };
  const file = (name: string, bytes: Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('bad magic', () => {
    const p = file('magic.npy', Buffer.from('PK\x03\x04 not numpy at all'));
    assert.match(userErrorMessage(() => readNpyFloat32(p)), /magic\.npy: magic: not a \.npy file/);
  });
  it('unsupported version', () => {
    const p = file('v9.npy', header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 9));
    assert.match(userErrorMessage(() => readNpyFloat32(p)), /v9\.npy: version: format version 9\.0 is not supported/);
  });
  it('header shorter than its declared length', () => {
    const full = header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n");
    const p = file('trunc-header.npy', full.subarray(0, 30));
    assert.match(userErrorMessage(() => readNpyFloat32(p)), /trunc-header\.npy: header: header says \d+ bytes but the file ends/);
  });
  it('header that is not a dict, and a bad shape', () => {
    const p = file('nodict.npy', header('hello world\n'));
    assert.match(userErrorMessage(() => readNpyFloat32(p)), /nodict\.npy: header: expected a Python dict literal/);
    const q = file('shape.npy', header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n"));
    assert.match(userErrorMessage(() => readNpyFloat32(q)), /shape\.npy: shape: expected non-negative integers, found 'x'/);
    const r = file('noshape.npy', header("{'descr': '<f4', 'fortran_order': False}\n"));
    assert.match(userErrorMessage(() => readNpyFloat32(r)), /noshape\.npy: shape: missing/);
  });
  it('data shorter than the header says', () => {
    const h = header("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }\n", 2);
    const p = file('short.npy', Buffer.concat([h, Buffer.alloc(8 * 11)]));
    assert.match(
      userErrorMessage(() => readNpyFloat32(p)),
      /short\.npy: data: file holds 88 bytes of data but the header's shape \(3, 4\) and dtype float64 need 96 bytes/,
    );
  });
  it('missing file', () => {
    assert.match(userErrorMessage(() => readNpyHeader(join(dir, 'nope.npy'))), /nope\.npy: file: not found/);
  });
});

describe('writeNpy', () => {
  const { dir, cleanup } = tempDir('npy-write');
  after(cleanup);
  it('writes v1.0 little-endian float32 and int32 that numpy reads back identically', { skip: needs('numpy') }, () => {
    const f = Float32Array.from([1.5, -2.25, 3e-8, 1e30, 0, -0.1]);
    const i = Int32Array.from([0, -1, 2147483647, -2147483648, 5, 6]);
    writeNpy(join(dir, 'f.npy'), f, [2, 3], 'float32');
    writeNpy(join(dir, 'i.npy'), [0, -1, 2147483647, -2147483648, 5, 6], [6], 'int32');
    const out = python(
      `
d = sys.argv[1]
r = {}
for n in ['f', 'i']:
    with open(f'{d}/{n}.npy', 'rb') as fh:
        v = np.lib.format.read_magic(fh)
        a = np.load(f'{d}/{n}.npy')
        r[n] = {'version': list(v), 'dtype': a.dtype.str, 'shape': list(a.shape), 'values': a.astype(np.float64).ravel().tolist(), 'aligned': (fh.seek(0, 2) - a.nbytes) % 64 == 0}
print(json.dumps(r))
`,
      [dir],
    );
    const r = JSON.parse(out) as Record<string, { version: number[]; dtype: string; shape: number[]; values: number[]; aligned: boolean }>;
    assert.deepEqual(r['f']!.version, [1, 0]);
    assert.equal(r['f']!.dtype, '<f4');
    assert.deepEqual(r['f']!.shape, [2, 3]);
    assert.deepEqual(r['f']!.values, Array.from(f));
    assert.equal(r['f']!.aligned, true);
    assert.equal(r['i']!.dtype, '<i4');
    assert.deepEqual(r['i']!.shape, [6]);
    assert.deepEqual(r['i']!.values, Array.from(i));
    // and our reader agrees
    assert.deepEqual(Array.from(readNpyFloat32(join(dir, 'f.npy')).data), Array.from(f));
    // no temporary file is left behind
    assert.deepEqual(readFileSync(join(dir, 'f.npy')).subarray(0, 6), Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]));
  });
});
