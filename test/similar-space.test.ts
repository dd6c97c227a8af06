// VASG's similar-items space (model/similar-space.ts) and the item-to-item measure of `experiment relations`:
// Recall@K of held-out co-purchases on a hand-computed case, the space saved and loaded, cold and newly added
// products, recommendation scores left unchanged, and the experiment's VASG row scoring the space it fits.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import type { Matrix, Split } from '../src/data/types.js';
import { buildRelationPairs, coPurchaseRecall, heldOutCoPurchases, relationAccuracy, relationPairKeys } from '../src/eval/relations.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { VasgModel } from '../src/model/vasg-model.js';
import { FEATURE_WEIGHT, fitSimilarSpace, similarityOf } from '../src/model/similar-space.js';
import { relationsExperiment } from '../src/experiments/relations.js';
import { ModelFormatError } from '../src/errors.js';
import { silentProgress } from '../src/progress.js';
import { Catalog } from '../src/serve/catalog.js';

/** Five products (4 cold), three users: u0 bought 0, 1 then 2 (test); u1 1, 3 then 4; u2 0, 2 then 3. */
function handSplit(): Split {
  const trainUsers = [0, 0, 1, 1, 2, 2];
  const trainItems = [0, 1, 1, 3, 0, 2];
  return {
    userIds: ['u0', 'u1', 'u2'],
    itemIds: ['p0', 'p1', 'p2', 'p3', 'p4'],
    items: [],
    warm: Uint8Array.of(1, 1, 1, 1, 0),
    train: {
      users: Int32Array.from(trainUsers), items: Int32Array.from(trainItems),
      ratings: new Float32Array(6).fill(1), timestamps: new Float64Array(6).fill(NaN),
    },
    test: { users: Int32Array.of(0, 1, 2), items: Int32Array.of(2, 4, 3) },
    features: { data: new Float32Array(5), rows: 5, cols: 1 },
    summary: {} as Split['summary'],
  };
}

test('heldOutCoPurchases and Recall@K on a hand-computed case', async () => {
  const split = handSplit();
  const heldOut = heldOutCoPurchases(split);
  // Trained co-purchases: {0,1}, {1,3}, {0,2}. u0: (2,0) was trained, (2,1) is new; u1: (4,1), (4,3); u2: (3,0), (3,2).
  assert.deepEqual(Array.from(heldOut.anchors), [2, 3, 4]);
  assert.deepEqual(heldOut.targets.map((t) => Array.from(t)), [[1], [0, 2], [1, 3]]);
  // score(i, j) = S[i][j]: queries are the identity, item j's row is column j of S. The diagonal is highest, so an
  // anchor not excluded from its own list would take a slot.
  const S = [
    [5, 0, 0, 0, 0],
    [0, 5, 0, 0, 0],
    [0.9, 0.1, 5, 0.8, 0.2], // anchor 2: top 2 = {0, 3}; target 1 missed → 0
    [0.5, 0.4, 0.9, 5, 0.1], // anchor 3: top 2 = {2, 0}; targets 0, 2 both found → 1
    [0, 0.7, 0.2, 0.1, 5], //   anchor 4 (cold): top 2 = {1, 2}; targets 1, 3: one of two → 0.5
  ];
  const identity = new Float32Array(25);
  for (let i = 0; i < 5; i++) identity[i * 6] = 1;
  const columns = new Float32Array(25);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) columns[j * 5 + i] = S[i][j];
  const similarity = { queries: { data: identity, rows: 5, cols: 5 }, items: { data: columns, rows: 5, cols: 5 } };
  const recall = await coPurchaseRecall(similarity, split, heldOut, 2);
  assert.deepEqual(recall, { k: 2, warm: 0.5, cold: 0.5, warmAnchors: 2, coldAnchors: 1 });
  const at3 = await coPurchaseRecall(similarity, split, heldOut, 3); // anchor 2: {0, 3, 4}; 3: {2, 0, 1}; 4: {1, 2, 3}
  assert.deepEqual(at3, { k: 3, warm: 0.5, cold: 1, warmAnchors: 2, coldAnchors: 1 });
});

const split = prepareSplit(generate('tiny', 1), { seed: 1 });
const FAST = { dim: 8, hidden: [16], epochs: 1, walksPerNode: 2, rankEpochs: 2, encoderSteps: 20, similarRank: 8, similarEpochs: 3, threads: 1, seed: 3 };
const trained = trainVasg(split, resolveConfig(FAST), silentProgress).then((r) => r.model);

/** u = [x/|x|; w·f/|f|], computed here from a product's raw embedding and image features. */
function input(x: Float32Array, f: Float32Array): Float64Array {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, b) => a + b * b, 0)) || 1;
  const [nx, nf] = [norm(x), norm(f) / FEATURE_WEIGHT];
  return Float64Array.from([...Array.from(x, (v) => v / nx), ...Array.from(f, (v) => v / nf)]);
}

/** −|Y u_a − Y u_b|², computed here, independently of the model's stored rows and search. */
function distance(projection: Matrix, a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (let k = 0; k < projection.rows; k++) {
    let z = 0;
    for (let c = 0; c < projection.cols; c++) z += projection.data[k * projection.cols + c] * (a[c] - b[c]);
    d += z * z;
  }
  return -d;
}

/** Every other product ranked by the learned distance to product `i`, best first (`features`: one row per product). */
function referenceRanking(model: VasgModel, features: Matrix, i: number): string[] {
  const { items } = model.parts;
  const u = (r: number) => input(items.data.subarray(r * items.cols, (r + 1) * items.cols), features.data.subarray(r * features.cols, (r + 1) * features.cols));
  const { projection } = model.parts.similarSpace!;
  const anchor = u(i);
  return model.itemIds.map((id, r) => ({ id, r, s: distance(projection, anchor, u(r)) }))
    .filter((x) => x.r !== i).sort((a, b) => b.s - a.s).map((x) => x.id);
}

test('the similar-items space: fitted by default, ranks by the learned distance, cold products included', async () => {
  const model = await trained;
  assert.ok(model.parts.similarSpace, 'trained with --similar metric (the default)');
  const { projection, rows } = model.parts.similarSpace;
  assert.deepEqual([projection.rows, projection.cols, rows.rows, rows.cols], [8, 8 + split.features.cols, split.itemIds.length, 8]);
  const cold = model.parts.cold.indexOf(1);
  assert.ok(cold >= 0);
  for (const i of [0, cold]) {
    const similar = await model.similarItems(model.itemIds[i], 5);
    assert.deepEqual(similar.map((s) => s.itemId), referenceRanking(model, split.features, i).slice(0, 5));
  }
  // Not the embeddings' cosine any more.
  const cosine = await model.withSimilarSpace(null).similarItems(model.itemIds[0], 5);
  assert.notDeepEqual(cosine.map((s) => s.itemId), (await model.similarItems(model.itemIds[0], 5)).map((s) => s.itemId));
});

test('the similar-items space leaves every recommendation score unchanged', async () => {
  const model = await trained;
  const plain = (await trainVasg(split, resolveConfig({ ...FAST, similar: 'embedding' }), silentProgress)).model;
  assert.equal(plain.parts.similarSpace, undefined);
  assert.deepEqual(plain.rankingMatrices(), model.rankingMatrices());
  assert.deepEqual(await plain.recommend(split.userIds.slice(0, 5), 10), await model.recommend(split.userIds.slice(0, 5), 10));
});

test('a product added at serving time is placed in the similar-items space', async () => {
  const model = (await trained).withSimilarSpace((await trained).parts.similarSpace!); // a copy: products added here stay here
  const features = { data: split.features.data.slice(0, split.features.cols), rows: 1, cols: split.features.cols };
  const [row] = await model.addItems(['new-1'], features);
  assert.equal(row, split.itemIds.length);
  const similar = await model.similarItems('new-1', 5);
  const withNew = { data: Float32Array.from([...split.features.data, ...features.data]), rows: split.features.rows + 1, cols: split.features.cols };
  assert.deepEqual(similar.map((s) => s.itemId), referenceRanking(model, withNew, row).slice(0, 5));
  // Without its features the space cannot place it, and the model is left as it was.
  const embedded = await model.embedFeatures(features);
  assert.throws(() => model.addEmbeddedItems(['new-2'], embedded), /image features for the similar-items space/);
  assert.equal(model.itemIds.length, row + 1);
  // It is the encoder's image of product 0's features, like cold products are: the space sees it close to them.
  assert.ok((await model.similarItems(model.itemIds[0], 50)).some((s) => s.itemId === 'new-1'));
});

test('the similar-items space round-trips save/load; a model without it still loads (cosine)', async () => {
  const model = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-similar-'));
  try {
    model.save(path.join(dir, 'm'));
    assert.ok(fs.existsSync(path.join(dir, 'm', 'similar_projection.npy')));
    const loaded = VasgModel.load(path.join(dir, 'm'));
    assert.deepEqual(loaded.parts.similarSpace, model.parts.similarSpace);
    assert.deepEqual(await loaded.similarItems(model.itemIds[3], 7), await model.similarItems(model.itemIds[3], 7));
    // A model written before the space existed: no file, similar items by the embeddings' cosine.
    model.withSimilarSpace(null).save(path.join(dir, 'old'));
    assert.ok(!fs.existsSync(path.join(dir, 'old', 'similar_projection.npy')));
    const old = VasgModel.load(path.join(dir, 'old'));
    assert.equal(old.parts.similarSpace, undefined);
    assert.deepEqual(await old.similarItems(model.itemIds[3], 7), await model.withSimilarSpace(null).similarItems(model.itemIds[3], 7));
    // A projection of the wrong width is named.
    const rows = { data: new Float32Array(3 * split.itemIds.length), rows: split.itemIds.length, cols: 3 };
    model.withSimilarSpace({ projection: { data: new Float32Array(12), rows: 3, cols: 4 }, rows }).save(path.join(dir, 'bad'));
    const width = 8 + split.features.cols;
    assert.throws(() => VasgModel.load(path.join(dir, 'bad')), (e: unknown) => e instanceof ModelFormatError && e.message.includes(`similar_projection.npy: expected ${width} columns`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the server\'s similar products rank in the space, for a product added while it runs too', async () => {
  const model = await trained;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-similar-serve-'));
  try {
    model.save(path.join(dir, 'm'));
    const catalog = await Catalog.open(path.join(dir, 'm'));
    try {
      const ids = (served: Array<{ id: string }>) => served.map((s) => s.id);
      assert.deepEqual(ids(await catalog.similar(model.itemIds[2], 6)), referenceRanking(model, split.features, 2).slice(0, 6));
      const features = Array.from(split.features.data.subarray(5 * split.features.cols, 6 * split.features.cols));
      await catalog.addItems([{ id: 'served-new', features }]);
      const withNew = { data: Float32Array.from([...split.features.data, ...features]), rows: split.features.rows + 1, cols: split.features.cols };
      assert.deepEqual(ids(await catalog.similar('served-new', 6)), referenceRanking(catalog.model, withNew, split.itemIds.length).slice(0, 6));
    } finally {
      await catalog.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the experiment\'s VASG row scores the similar-items space fitted without the evaluated pairs', async () => {
  const options = { runs: 1, seed: 3, threads: 1, progress: silentProgress, config: FAST };
  const result = await relationsExperiment(split, options);
  const vasg = result.rows.find((r) => r.method === 'VASG')!;
  // The same model and space, built here: the relation pairs of run 1, the space fitted without them.
  const config = resolveConfig({ ...FAST, seed: 3 });
  const model = (await trainVasg(split, config, silentProgress)).model;
  const pairs = buildRelationPairs(split, { seed: 3, pairs: result.pairs / 2 });
  const space = fitSimilarSpace(split, model.parts.items, await model.embedFeatures(split.features), config, relationPairKeys(pairs));
  const similarity = similarityOf(model.scoringMatrices().items, space);
  assert.equal(vasg.accuracy.mean, relationAccuracy(similarity, pairs).accuracy);
  const recall = await coPurchaseRecall(similarity, split, heldOutCoPurchases(split), 20);
  assert.equal(vasg['recall@20'].warm.mean, recall.warm);
  assert.equal(vasg['recall@20'].cold.mean, recall.cold);
  assert.ok(result.anchors.warm > 0 && result.anchors.cold > 0);
  // With --similar embedding the row is the embeddings' cosine, which scores differently.
  const plain = await relationsExperiment(split, { ...options, config: { ...FAST, similar: 'embedding' } });
  assert.notEqual(plain.rows[0].accuracy.mean, vasg.accuracy.mean);
});
