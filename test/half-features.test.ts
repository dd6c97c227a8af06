// Features kept float16 in memory (src/data/features.ts): every reader widens blocks or listed rows, and a float16
// split whose values float16 holds exactly gives the float32 split's results (exactly, but for the visual term, whose
// standardised copy is itself float16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, fit, generate, prepareSplit, VasgModel, type Split } from '../src/index.js';
import { native } from '../src/native.js';
import { featureBlock, forEachFeatureBlock, gatherFeatures, isHalf, toHalf, widenFeatures } from '../src/data/features.js';
import { readFeatures, writeNpy } from '../src/data/npy.js';
import { Rng } from '../src/data/random.js';
import type { Features, Matrix } from '../src/data/types.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** float32 value of a float16 bit pattern, by its definition. */
function reference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

test('native halfToFloat and gatherHalf widen every float16 bit pattern exactly', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
  const out = new Float32Array(65536);
  native.halfToFloat(all, 0, all.length, out);
  all.forEach((h) => assert.ok(Object.is(out[h], reference(h)) || (Number.isNaN(out[h]) && Number.isNaN(reference(h))), `0x${h.toString(16)}`));
  const part = new Float32Array(5);
  native.halfToFloat(all, 0x3c00, 5, part);
  assert.deepEqual(Array.from(part), [1, 1 + 2 ** -10, 1 + 2 ** -9, 1 + 3 * 2 ** -10, 1 + 2 ** -8]);
  const rows = new Float32Array(2 * 256);
  native.gatherHalf(all, 256, Int32Array.of(60, 2), rows);
  assert.deepEqual(rows.subarray(0, 256), out.subarray(60 * 256, 61 * 256));
  assert.deepEqual(rows.subarray(256), out.subarray(512, 768));
  assert.throws(() => native.gatherHalf(all, 256, Int32Array.of(256), rows), /row 256 outside the 256 rows/);
  assert.throws(() => native.halfToFloat(all, 65530, 7, out), RangeError);
});

/** A random [rows × cols] matrix whose values float16 holds exactly, and its float16 copy. */
function representable(rows: number, cols: number, seed: number): { full: Matrix; half: Features } {
  const half = toHalf({ data: new Rng(seed).fillNormal(new Float32Array(rows * cols)), rows, cols });
  return { full: widenFeatures(half), half };
}

test('featureBlock, gatherFeatures and forEachFeatureBlock read float16 as the float32 matrix of the same values', () => {
  const { full, half } = representable(11, 7, 1);
  assert.ok(isHalf(half) && !isHalf(full));
  assert.deepEqual(featureBlock(half, 3, 8), featureBlock(full, 3, 8));
  assert.equal(featureBlock(full, 3, 8).buffer, full.data.buffer, 'a float32 block is a view');
  const listed = [10, 0, 4, 4];
  assert.deepEqual(gatherFeatures(half, listed), gatherFeatures(full, listed));
  for (const features of [half, full]) {
    const seen: number[] = [];
    const values = new Float32Array(full.data.length);
    forEachFeatureBlock(features, (block, r0, rows) => {
      seen.push(r0, rows);
      values.set(block, r0 * 7);
    }, 4);
    assert.deepEqual(seen, [0, 4, 4, 4, 8, 3]);
    assert.deepEqual(values, full.data);
  }
  const blocks: number[] = [];
  forEachFeatureBlock(full, (_block, r0, rows) => blocks.push(r0, rows));
  assert.deepEqual(blocks, [0, 11], 'a float32 matrix is one block by default');
});

test('pairDifferences reads a float16 tail, scaled per row, as the float32 tail of the same values', () => {
  const { full, half } = representable(6, 9, 2);
  const head = new Rng(3).fillNormal(new Float32Array(12 * 4));
  const scale = Float64Array.from({ length: 6 }, (_, r) => 0.1 + r / 7);
  const first = Int32Array.of(0, 7, 11, 5), second = Int32Array.of(6, 1, 3, 2);
  const run = (b: Float32Array | Uint16Array, s: Float64Array | null) => {
    const out = new Float32Array(4 * 13);
    native.pairDifferences(first, second, 4, head, 4, b, 9, 6, s, 3, out);
    return out;
  };
  const halfBits = (half as { half: Uint16Array }).half;
  assert.deepEqual(run(halfBits, scale), run(full.data, scale));
  assert.deepEqual(run(halfBits, null), run(full.data, null));
  const expected = run(full.data, scale);
  first.forEach((f, p) => {
    const s = second[p];
    for (let c = 0; c < 9; c++) {
      const value = (r: number) => Math.fround(3 * Math.fround(full.data[(r % 6) * 9 + c] * scale[r % 6]));
      assert.equal(expected[p * 13 + 4 + c], Math.fround(value(f) - value(s)));
    }
  });
});

test('readFeatures keeps float16 as float16 and names the row of a NaN', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-half-'));
  try {
    const { full } = representable(3, 4, 4);
    const file = path.join(dir, 'f.npy');
    writeNpy(file, full, 'float16');
    const read = readFeatures(file);
    assert.ok(isHalf(read));
    assert.deepEqual(widenFeatures(read).data, full.data);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt16LE(0x7e00, bytes.length - 2 * 3);
    fs.writeFileSync(file, bytes);
    assert.throws(() => readFeatures(file), /row 2, column 1: expected a finite value, found float16 NaN/);
    assert.ok(!isHalf(readFeatures(writeFloat32(dir, full))));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function writeFloat32(dir: string, m: Matrix): string {
  const file = path.join(dir, 'g.npy');
  writeNpy(file, m);
  return file;
}

/** One split two ways: features rounded to float16 and held as float16, and the same values as float32. */
function splits(): [Split, Split] {
  const split = prepareSplit(generate('tiny', 4), { seed: 2 });
  const half = toHalf(split.features as Matrix);
  return [{ ...split, features: widenFeatures(half) }, { ...split, features: half, featureDtype: 'float16' }];
}

const FAST = { threads: 1, seed: 3 };
const VASG = { ...FAST, dim: 16, hidden: [32], epochs: 1, walksPerNode: 4, rankEpochs: 3, encoderSteps: 100, rankSubspace: 16, similarEpochs: 2 };

test('baselines on a float16 split give the float32 split\'s results exactly (WBOI, VBPR, IBR, Content→CF)', async () => {
  const [full, half] = splits();
  for (const [method, options] of [['wboi', FAST], ['vbpr', { ...FAST, epochs: 2, latent: 8, visual: 8 }], ['ibr', { ...FAST, epochs: 2 }],
    ['content-cf', { ...FAST, iterations: 2 }]] as const) {
    const [a, b] = [await fit(method, full, options), await fit(method, half, options)];
    const [ra, rb] = [await evaluate(a, full, { threads: 1, seed: 1 }), await evaluate(b, half, { threads: 1, seed: 1 })];
    assert.deepEqual(rb.auc, ra.auc, method);
    assert.deepEqual(rb['recall@20'], ra['recall@20'], method);
    if (method !== 'content-cf') assert.deepEqual(await b.similarItems(half.itemIds[0], 5), await a.similarItems(full.itemIds[0], 5), `${method} similar items`);
  }
});

test('VASG on a float16 split: exact without the visual term, within float16 rounding with it; serving embeds alike', async () => {
  const [full, half] = splits();
  const [a, b] = [await fit('vasg', full, { ...VASG, visual: false, encoderObjective: 'regress' }), await fit('vasg', half, { ...VASG, visual: false, encoderObjective: 'regress' })] as VasgModel[];
  assert.deepEqual(b.parts.items.data, a.parts.items.data);
  assert.deepEqual(b.parts.similarSpace!.rows.data, a.parts.similarSpace!.rows.data);
  assert.deepEqual((await b.embedFeatures(half.features)).data, (await a.embedFeatures(full.features)).data);
  const [c, d] = [await fit('vasg', full, VASG), await fit('vasg', half, VASG)] as VasgModel[];
  const [rc, rd] = [await evaluate(c, full, { threads: 1, seed: 1 }), await evaluate(d, half, { threads: 1, seed: 1 })];
  for (const part of ['warm', 'cold', 'combined'] as const) {
    assert.ok(Math.abs(rc.auc[part]! - rd.auc[part]!) <= 0.003, `${part} AUC: float32 ${rc.auc[part]}, float16 ${rd.auc[part]}`);
  }
});
