// The item bias (model/item-bias.ts): hand-computed biases, the extra scoring column, the training-pairs offset,
// and the model artifact: the column in rankingMatrices, recommendations ranked by it, save/load, added products.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendBiasColumn, coldBias, coldScoreOffset, itemBiases, itemPopularity, warmQuantile } from '../src/model/item-bias.js';
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
const trained = trainVasg(split, resolveConfig({ threads: 1, seed: 2, dim: 16, itemBias: 0.1, coldPopularity: 0.9, coldOffset: 0.05 }), silentProgress);

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
