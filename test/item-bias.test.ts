// The item bias (model/item-bias.ts): hand-computed biases, the extra scoring column, the training-pairs offset,
// and the model artifact: the column in rankingMatrices, recommendations ranked by it, save/load, added products.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  appendBiasColumn, calibrateColdShift, coldBias, coldExposureAt, coldScoreOffset, coldShareTarget, coldSlots, itemBiases, itemPopularity, listHeads, warmQuantile,
} from '../src/model/item-bias.js';
import { validationSplit } from '../src/data/validation.js';
import { productionSplit } from '../src/data/production.js';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import { paperConfig, resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { VasgModel } from '../src/model/vasg-model.js';
import { silentProgress } from '../src/progress.js';
import { ModelFormatError } from '../src/errors.js';

const interactions = (users: number[], items: number[]) => ({
  users: Int32Array.from(users), items: Int32Array.from(items), ratings: new Float32Array(users.length).fill(1), timestamps: new Float64Array(users.length).fill(NaN),
});

test('biases: β·ln(1 + purchases) for warm products, the quantile product\'s bias plus the offset for cold ones', () => {
  // Products 0–3 warm with 1, 3, 0 (never bought, still warm in this hand case) and 7 purchases; product 4 cold.
  const train = interactions([0, 0, 1, 2, 0, 1, 2, 3, 4, 5, 6], [0, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3]);
  const popularity = itemPopularity(train, 5);
  assert.deepEqual(Array.from(popularity), [1, 3, 0, 7, 0]);
  const warm = Uint8Array.of(1, 1, 1, 1, 0);
  // Warm counts sorted: 0, 1, 3, 7. Nearest rank: q = 0.5 → 2nd (1), q = 0.75 → 3rd (3), q = 1 → 7, q = 0 → 0.
  assert.equal(warmQuantile(popularity, warm, 0.5), 1);
  assert.equal(warmQuantile(popularity, warm, 0.75), 3);
  assert.equal(warmQuantile(popularity, warm, 1), 7);
  assert.equal(warmQuantile(popularity, warm, 0), 0);
  const weights = { popularityWeight: 0.1, coldQuantile: 0.75, coldOffset: 0.05 };
  const b = itemBiases(popularity, warm, weights);
  const expected = [0.1 * Math.log(2), 0.1 * Math.log(4), 0, 0.1 * Math.log(8), 0.1 * Math.log(4) + 0.05];
  b.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-7, `product ${i}: ${v} vs ${expected[i]}`));
  assert.ok(Math.abs(coldBias(popularity, warm, weights) - expected[4]) < 1e-12);
});

test('the bias column: users get 1, products their bias, so every dot product gains b_i', () => {
  const users = { data: Float32Array.of(1, 0, 0, 1), rows: 2, cols: 2 };
  const items = { data: Float32Array.of(0.5, 0.5, -1, 2, 3, 0), rows: 3, cols: 2 };
  const ranked = appendBiasColumn({ users, items }, Float32Array.of(0.1, -0.2, 0.3));
  assert.equal(ranked.users.cols, 3);
  assert.deepEqual(Array.from(ranked.users.data), [1, 0, 1, 0, 1, 1]);
  const dot = (u: number, i: number) => [0, 1, 2].reduce((s, d) => s + ranked.users.data[u * 3 + d] * ranked.items.data[i * 3 + d], 0);
  assert.ok(Math.abs(dot(0, 0) - 0.6) < 1e-6);
  assert.ok(Math.abs(dot(1, 1) - 1.8) < 1e-6);
  assert.ok(Math.abs(dot(0, 2) - 3.3) < 1e-6);
});

test('coldScoreOffset is the mean, over training pairs, of learned minus encoded scores for the buyer', () => {
  const users = { data: Float32Array.of(1, 0, 0, 1), rows: 2, cols: 2 };
  const learned = { data: Float32Array.of(0.8, 0.6, 0, 1), rows: 2, cols: 2 };
  const encoded = { data: Float32Array.of(0.6, 0.8, 0.6, 0.8), rows: 2, cols: 2 };
  // Pairs (0, 0): 0.8 − 0.6; (1, 0): 0.6 − 0.8; (1, 1): 1 − 0.8.
  const offset = coldScoreOffset(users, learned, encoded, interactions([0, 1, 1], [0, 0, 1]));
  assert.ok(Math.abs(offset - (0.2 - 0.2 + 0.2) / 3) < 1e-6);
  assert.equal(coldScoreOffset(users, learned, encoded, interactions([], [])), 0);
});

const split = prepareSplit(generate('tiny', 2), { seed: 2 });
const trained = trainVasg(split, resolveConfig({ threads: 1, seed: 2, dim: 16, itemBias: 0.1, coldPopularity: 0.9, coldOffset: 0.05, coldExposure: 'off' }), silentProgress);

test('a trained model carries the bias: rankingMatrices has the column, recommend ranks by cosine + b_i', async () => {
  const { model } = await trained;
  const { itemBias, coldBias: cold } = model.parts;
  assert.ok(itemBias && cold !== undefined);
  const popularity = itemPopularity(split.train, split.itemIds.length);
  const expected = itemBiases(popularity, split.warm, { popularityWeight: 0.1, coldQuantile: 0.9, coldOffset: 0.05 });
  assert.deepEqual(Array.from(itemBias), Array.from(expected));
  const scoring = model.scoringMatrices();
  const ranking = model.rankingMatrices();
  assert.equal(ranking.items.cols, scoring.items.cols + 1);
  for (let i = 0; i < split.itemIds.length; i++) assert.equal(ranking.items.data[i * ranking.items.cols + scoring.items.cols], itemBias[i]);
  const u = 5;
  const recs = await model.recommend(split.userIds[u], 10);
  const dim = scoring.users.cols;
  for (const r of recs) {
    const i = model.itemIndexOf(r.itemId);
    let cosine = 0;
    for (let d = 0; d < dim; d++) cosine += scoring.users.data[u * dim + d] * scoring.items.data[i * dim + d];
    assert.ok(Math.abs(r.score - (cosine + itemBias[i])) < 1e-5, `${r.itemId}: ${r.score} vs ${cosine + itemBias[i]}`);
  }
  // similarItems stays in the embedding space: no bias in its scores (a product's nearest is not the most popular).
  const similar = await model.similarItems(split.itemIds[0], 3);
  for (const r of similar) assert.ok(r.score <= 1 + 1e-5);
});

test('the bias round-trips through save/load; products added later get the cold bias; a wrong-length file is refused', async () => {
  const { model } = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bias-'));
  try {
    model.save(dir);
    const loaded = VasgModel.load(dir);
    assert.deepEqual(loaded.parts.itemBias, model.parts.itemBias);
    assert.equal(loaded.parts.coldBias, model.parts.coldBias);
    assert.deepEqual(await loaded.recommend(split.userIds[7], 10), await model.recommend(split.userIds[7], 10));
    const features = { data: split.features.data.slice(0, 2 * split.features.cols), rows: 2, cols: split.features.cols };
    const rows = await loaded.addItems(['new-a', 'new-b'], features);
    for (const row of rows) assert.equal(loaded.parts.itemBias![row], Math.fround(model.parts.coldBias!));
    assert.equal(loaded.rankingMatrices().items.rows, split.itemIds.length + 2);
    fs.rmSync(path.join(dir, '.vasg-complete')); // an edit on purpose: the directory's own size check stands aside
    fs.writeFileSync(path.join(dir, 'item_bias.npy'), fs.readFileSync(path.join(dir, 'seen_indptr.npy')));
    assert.throws(() => VasgModel.load(dir), (e: unknown) => e instanceof ModelFormatError && /item_bias\.npy: has \d+ values, expected one per product/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the paper\'s formulation and --item-bias 0 --cold-offset 0 carry no bias: ranking = scoring', async () => {
  assert.equal(resolveConfig(paperConfig).itemBias, 0);
  const { model } = await trainVasg(split, resolveConfig({ threads: 1, seed: 2, dim: 8, rankEpochs: 1, itemBias: 0, coldOffset: 0 }), silentProgress);
  assert.equal(model.parts.itemBias, undefined);
  assert.equal(model.rankingMatrices(), model.scoringMatrices());
});

test('cold exposure: cold slots merge the two heads; the calibrated shift is the smallest that reaches the target', () => {
  // Two users, top 2. User 0: warm 0.9, 0.5; cold 0.6, 0.1. User 1: warm 0.8, 0.7; cold 0.3, 0.2.
  // User 0 shows 1 cold product once 0.6 + s > 0.5 (s > −0.1), 2 once 0.1 + s > 0.9 (s > 0.8);
  // user 1 shows 1 once 0.3 + s > 0.7 (s > 0.4), 2 once 0.2 + s > 0.8 (s > 0.6).
  const heads = { k: 2, warm: Float32Array.of(0.9, 0.5, 0.8, 0.7), cold: Float32Array.of(0.6, 0.1, 0.3, 0.2) };
  assert.deepEqual([-0.2, 0, 0.45, 0.7, 0.9].map((s) => [coldSlots(heads, 0, s), coldSlots(heads, 1, s)]), [[0, 0], [1, 0], [1, 1], [1, 2], [2, 2]]);
  assert.deepEqual([-0.2, 0, 0.45, 0.7, 0.9].map((s) => coldExposureAt(heads, s)), [0, 0.25, 0.5, 0.75, 1]);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  near(calibrateColdShift(heads, 0.25), -0.1);
  near(calibrateColdShift(heads, 0.5), 0.4);
  near(calibrateColdShift(heads, 0.6), 0.6); // between steps: the first shift at or above the target
  assert.equal(coldExposureAt(heads, calibrateColdShift(heads, 0.5)), 0.5);
  assert.equal(coldExposureAt(heads, calibrateColdShift(heads, 0)), 0);
  assert.equal(coldExposureAt(heads, calibrateColdShift(heads, 1)), 1);
});

test('list heads: warm scores with their bias and training products left out, cold scores without bias', () => {
  // One dimension: users 1 and 2; products 0, 1 warm (biases 0.5, 0), product 2 cold (bias slot ignored) with score 0.3 u.
  const scoring = { users: { data: Float32Array.of(1, 2), rows: 2, cols: 1 }, items: { data: Float32Array.of(0.1, 0.2, 0.3), rows: 3, cols: 1 } };
  const heads = listHeads(scoring, Float32Array.of(0.5, 0, 99), Uint8Array.of(1, 1, 0), interactions([0, 1], [1, 0]), 2);
  // User 0 bought 1: warm 0.1 + 0.5; user 1 bought 0: warm 0.4 + 0. Cold: 0.3 and 0.6.
  const close = (a: Float32Array, b: number[]) => a.forEach((v, i) => assert.ok(v === b[i] || Math.abs(v - b[i]) < 1e-6, `${Array.from(a)} vs ${b}`));
  close(heads.warm, [0.6, -Infinity, 0.4, -Infinity]);
  close(heads.cold, [0.3, -Infinity, 0.6, -Infinity]);
});

test('the exposure target is the cold share of the validation split\'s test pairs; production data without timestamps has none', () => {
  const target = coldShareTarget(split, 7);
  const { testWarm, testCold } = validationSplit(split, 7).summary;
  assert.equal(target, testCold / (testWarm + testCold));
  const dataset = generate('tiny', 2);
  const untimed = productionSplit({ ...dataset, interactions: { ...dataset.interactions, timestamps: new Float64Array(dataset.interactions.users.length).fill(NaN) } });
  assert.equal(coldShareTarget(untimed, 7), null);
});

test('by default the trained cold bias gives cold products the target share of the training users\' top-20 lists', async () => {
  const { model } = await trainVasg(split, resolveConfig({ threads: 1, seed: 2, dim: 16 }), silentProgress);
  const target = coldShareTarget(split, 2 + 1000)!;
  const popularity = itemPopularity(split.train, split.itemIds.length);
  const warmBiases = itemBiases(popularity, split.warm, { popularityWeight: 0.15, coldQuantile: 0.99, coldOffset: 0 });
  const heads = listHeads(model.scoringMatrices(), warmBiases, split.warm, split.train, 20);
  const exposure = coldExposureAt(heads, model.parts.coldBias!);
  assert.ok(exposure >= target && exposure < target + 0.01, `exposure ${exposure}, target ${target}`);
  split.warm.forEach((w, i) => assert.equal(model.parts.itemBias![i], w ? warmBiases[i] : Math.fround(model.parts.coldBias!)));
});
