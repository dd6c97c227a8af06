// The joint visual term and the ranking refinement: gradients against finite differences, the folding of
// E into an encoder network, and the leave-one-out metrics on a hand-computed case.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/data/random.js';
import type { Matrix, Split } from '../src/data/types.js';
import { hardestNegatives, rankingStep, type RankingState } from '../src/model/rank.js';
import { standardize, VisualProjection } from '../src/model/visual.js';
import { featureRows, minMaxRows } from '../src/model/matrix.js';
import { rankingMetrics } from '../src/eval/auc.js';
import { BprSampler, type BprBatch } from '../src/core/bpr-sampling.js';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import { prepareTimeSplit } from '../src/data/time-split.js';
import { defaultConfig } from '../src/model/config.js';
import { SEARCH_SPACE, settingsAsFlags, tune, validationSplit } from '../src/eval/tune.js';

const dim = 4;
const I = 6;

function randomState(seed: number): RankingState {
  const rng = new Rng(seed);
  const features = standardize(featureRows({ data: rng.fillNormal(new Float32Array(5 * I)), rows: 5, cols: I }, false)).standardized;
  return {
    dim,
    users: rng.fillNormal(new Float32Array(3 * dim), 0.5),
    free: rng.fillNormal(new Float32Array(5 * dim), 0.5),
    row: Int32Array.from([0, 1, 2, 3, 4]),
    features,
    weights: rng.fillNormal(new Float32Array(I * dim), 0.3),
  };
}

/** −ln σ(x_uij) of one triple, computed directly in float64. */
function tripleLoss(s: RankingState, u: number, i: number, j: number): number {
  let x = 0;
  for (let d = 0; d < dim; d++) {
    let visual = 0;
    for (let c = 0; c < I; c++) visual += ((s.features as Matrix).data[i * I + c] - (s.features as Matrix).data[j * I + c]) * s.weights![c * dim + d];
    x += s.users[u * dim + d] * (s.free[i * dim + d] - s.free[j * dim + d] + visual);
  }
  return Math.log1p(Math.exp(-x));
}

const clone = (s: RankingState): RankingState => ({ ...s, users: s.users.slice(), free: s.free.slice(), weights: s.weights!.slice() });

test('one BPR step moves users, free parts and E by −lr × the finite-difference gradient', () => {
  const state = randomState(7);
  const batch: BprBatch = { users: Int32Array.of(1), pos: Int32Array.of(2), neg: Int32Array.of(4), size: 1 };
  const lr = 1e-3;
  const before = clone(state);
  const loss = rankingStep(state, batch, lr, 0);
  assert.ok(Math.abs(loss - tripleLoss(before, 1, 2, 4)) < 1e-5, `loss ${loss}`);
  const h = 1e-3;
  const check = (name: 'users' | 'free' | 'weights', k: number) => {
    const plus = clone(before);
    const minus = clone(before);
    plus[name]![k] += h;
    minus[name]![k] -= h;
    const numeric = (tripleLoss(plus, 1, 2, 4) - tripleLoss(minus, 1, 2, 4)) / (2 * h);
    const step = (state[name]![k] - before[name]![k]) / -lr;
    assert.ok(Math.abs(step - numeric) < 2e-3 * Math.max(1, Math.abs(numeric)), `${name}[${k}]: step ${step} vs numeric ${numeric}`);
  };
  for (let d = 0; d < dim; d++) {
    check('users', 1 * dim + d);
    check('free', 2 * dim + d);
    check('free', 4 * dim + d);
  }
  for (let k = 0; k < I * dim; k++) check('weights', k);
  // Untouched rows stay as they were.
  assert.deepEqual(state.users.subarray(0, dim), before.users.subarray(0, dim));
  assert.deepEqual(state.free.subarray(0, dim), before.free.subarray(0, dim));
});

test('BPR steps lower the loss of the triples they train on', () => {
  const state = randomState(11);
  const batch: BprBatch = { users: Int32Array.of(0, 1, 2), pos: Int32Array.of(0, 1, 2), neg: Int32Array.of(3, 4, 3), size: 3 };
  const first = rankingStep(state, batch, 0.05, 0.01);
  let last = first;
  for (let k = 0; k < 50; k++) last = rankingStep(state, batch, 0.05, 0.01);
  assert.ok(last < first * 0.7, `loss ${first} → ${last}`);
});

test('the visual term steps E along −f̃ᵀΔ and folds its standardisation into an encoder network', () => {
  const rng = new Rng(5);
  const raw: Matrix = { data: rng.fillNormal(new Float32Array(7 * I), 2, 1), rows: 7, cols: I };
  const { standardized, standardization } = standardize(featureRows(raw, false));
  // Standardised rows: centred columns, unit mean squared norm.
  for (let c = 0; c < I; c++) {
    let mean = 0;
    for (let r = 0; r < 7; r++) mean += (standardized as Matrix).data[r * I + c] / 7;
    assert.ok(Math.abs(mean) < 1e-5);
  }
  let squares = 0;
  for (const v of (standardized as Matrix).data) squares += v * v;
  assert.ok(Math.abs(squares / 7 - 1) < 1e-4);

  const projection = new VisualProjection(standardized, dim, 0.01);
  const delta = rng.fillNormal(new Float32Array(7 * dim));
  projection.step(delta);
  // Adam's first step is −lr·sign(gradient): E rises where f̃ᵀΔ > 0.
  for (let c = 0; c < I; c++) {
    for (let d = 0; d < dim; d++) {
      let fd = 0;
      for (let r = 0; r < 7; r++) fd += (standardized as Matrix).data[r * I + c] * delta[r * dim + d];
      if (Math.abs(fd) > 1e-3) assert.ok(Math.abs(projection.weights[c * dim + d] - 0.01 * Math.sign(fd)) < 1e-4);
    }
  }
  const projected = projection.project(new Float32Array(7 * dim));
  const network = projection.toNetwork(standardization, 1);
  const direct = network.forward(raw.data, 7, false);
  for (let k = 0; k < projected.length; k++) assert.ok(Math.abs(direct[k] - projected[k]) < 1e-4, `row ${Math.floor(k / dim)}`);
});

test('standardize reads the listed rows in blocks, min–max scaled on the way, and gives what the whole scaled copy gives', () => {
  // 2,600 rows: three blocks; every other row listed, as warm products are a subset of the catalogue.
  const rng = new Rng(9);
  const raw: Matrix = { data: rng.fillNormal(new Float32Array(2600 * 3), 4, 2), rows: 2600, cols: 3 };
  const listed = Int32Array.from({ length: 1300 }, (_, k) => 2 * k + 1);
  const { standardized, standardization } = standardize(featureRows(raw, true), listed);
  const scaled = minMaxRows(raw);
  const mean = [0, 0, 0];
  for (const r of listed) for (let c = 0; c < 3; c++) mean[c] += scaled.data[r * 3 + c] / listed.length;
  let squares = 0;
  for (const r of listed) for (let c = 0; c < 3; c++) squares += (scaled.data[r * 3 + c] - mean[c]) ** 2;
  const scale = Math.sqrt(squares / listed.length);
  assert.equal(standardized.rows, 1300);
  mean.forEach((m, c) => assert.ok(Math.abs(standardization.mean[c] - m) < 1e-5));
  assert.ok(Math.abs(standardization.scale - scale) < 1e-4 * scale);
  listed.forEach((r, k) => {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs((standardized as Matrix).data[k * 3 + c] - (scaled.data[r * 3 + c] - mean[c]) / scale) < 1e-4, `row ${r}`);
  });
});

test('dynamic negative sampling keeps the highest-scoring of the k draws (the visual term included)', () => {
  // One user who bought product 0 of four warm products; scores X_u·(a_j + E·f̃_j) = 1, 2, 5 for j = 1, 2, 3
  // from the free parts alone, but product 2's visual term lifts it to 2 + 4 = 6.
  const split = {
    userIds: ['u'], itemIds: ['a', 'b', 'c', 'd'], warm: Uint8Array.of(1, 1, 1, 1),
    train: { users: Int32Array.of(0), items: Int32Array.of(0), ratings: Float32Array.of(1), timestamps: Float64Array.of(NaN) },
  } as unknown as Split;
  const sampler = new BprSampler(split);
  const state: RankingState = {
    dim: 1, users: Float32Array.of(1), free: Float32Array.of(0, 1, 2, 5), row: Int32Array.of(0, 1, 2, 3), features: null, weights: null,
  };
  const batch = () => ({ users: Int32Array.of(0, 0), pos: Int32Array.of(0, 0), neg: Int32Array.of(1, 1), size: 2 });
  const plain = batch();
  hardestNegatives(state, new Float32Array(0), sampler, new Rng(1), plain, 1);
  assert.deepEqual(Array.from(plain.neg), [1, 1], 'k = 1 keeps the uniform draw');
  const hard = batch();
  hardestNegatives(state, new Float32Array(0), sampler, new Rng(1), hard, 40);
  assert.deepEqual(Array.from(hard.neg), [3, 3]);
  const withVisual = batch();
  hardestNegatives(state, Float32Array.of(0, 0, 4, 0), sampler, new Rng(1), withVisual, 40);
  assert.deepEqual(Array.from(withVisual.neg), [2, 2]);
});

test('Recall@20, NDCG@20 and combined AUC on a hand-computed case', () => {
  // Three test pairs: warm at rank 0 of 100 candidates, warm at rank 30, cold at rank 19.5 (a tie counted half).
  const candidates = Float64Array.of(100, 100, 40);
  const perPair = Float64Array.of(1, 1 - 30 / 100, 1 - 19.5 / 40);
  const warm = Uint8Array.of(1, 0);
  const r = rankingMetrics(perPair, candidates, Int32Array.of(0, 0, 1), warm);
  assert.ok(Math.abs(r.warm - (1 + 0.7) / 2) < 1e-12);
  assert.ok(Math.abs(r.cold - (1 - 19.5 / 40)) < 1e-12);
  assert.ok(Math.abs(r.combined - (1 + 0.7 + (1 - 19.5 / 40)) / 3) < 1e-12);
  assert.equal(r.recallAt20.warm, 0.5);
  assert.equal(r.recallAt20.cold, 1);
  assert.ok(Math.abs(r.ndcgAt20.warm - 0.5) < 1e-12); // 1/log2(0 + 2) = 1, and 0 beyond the cut-off
  assert.ok(Math.abs(r.ndcgAt20.cold - 1 / Math.log2(21.5)) < 1e-12);
  assert.equal(r.pairsWarm, 2);
  assert.equal(r.pairsCold, 1);
});

test('tune: the validation split comes from training pairs only, and trials are ranked by combined AUC when asked', async () => {
  const split = prepareSplit(generate('tiny', 4), { seed: 2 });
  const validation = validationSplit(split, 3);
  const trainKeys = new Set(Array.from(split.train.users, (u, e) => `${split.userIds[u]}|${split.itemIds[split.train.items[e]]}`));
  const testKeys = new Set(Array.from(split.test.users, (u, j) => `${split.userIds[u]}|${split.itemIds[split.test.items[j]]}`));
  const coldIds = new Set(split.itemIds.filter((_, i) => !split.warm[i]));
  for (const id of validation.itemIds) assert.ok(!coldIds.has(id), `cold product ${id} leaked into the validation split`);
  const pairs = [
    ...Array.from(validation.train.users, (u, e) => `${validation.userIds[u]}|${validation.itemIds[validation.train.items[e]]}`),
    ...Array.from(validation.test.users, (u, j) => `${validation.userIds[u]}|${validation.itemIds[validation.test.items[j]]}`),
  ];
  for (const key of pairs) {
    assert.ok(trainKeys.has(key), `${key} is not a training pair`);
    assert.ok(!testKeys.has(key), `${key} is a test pair`);
  }
  assert.ok(validation.summary.testCold > 0 && validation.summary.testWarm > 0);

  const result = await tune(split, { trials: 2, budgetMinutes: 60, seed: 1, threads: 1, base: { dim: 16 }, metric: 'combined-auc' });
  assert.equal(result.trials.length, 2);
  assert.ok(result.trials[0].combined >= result.trials[1].combined);
  assert.equal(result.trials[0].score, result.trials[0].combined);
  for (const t of result.trials) assert.ok(t.combined > 0.5 && t.combined < 1, `combined ${t.combined}`);
  assert.ok(result.trials.some((t) => t.settings.rankEpochs === defaultConfig.rankEpochs && t.settings.dim === 16), 'the defaults (with the fixed flags) are trial 1');
  assert.match(settingsAsFlags(result.trials[0].settings), /^--dim \d+ --negatives \d+ /);
});

test('tune: by default trials are ranked by Recall@20 over one list; a time split is validated by a time split of its training period', async () => {
  const split = prepareTimeSplit(generate('tiny', 4), { seed: 1 });
  const validation = validationSplit(split, 3);
  assert.equal(validation.summary.split, 'time');
  assert.ok(validation.summary.cutoff! <= split.summary.cutoff!);
  assert.ok(validation.train.timestamps.every((t) => t < validation.summary.cutoff!));
  const result = await tune(split, { trials: 2, budgetMinutes: 60, seed: 1, threads: 1, base: { dim: 16 } });
  assert.equal(result.metric, 'recall@20');
  assert.ok(result.trials[0]['recall@20'] >= result.trials[1]['recall@20']);
  for (const t of result.trials) assert.ok(t.score === t['recall@20'] && t['recall@20'] > 0 && t['recall@20'] <= 1, `recall@20 ${t['recall@20']}`);
});

test("tune's search space holds every searched setting's default (a changed default must be among the values tried)", () => {
  for (const [key, values] of Object.entries(SEARCH_SPACE)) {
    const value = defaultConfig[key as keyof typeof SEARCH_SPACE];
    assert.ok((values as number[]).includes(value), `SEARCH_SPACE.${key} is [${values.join(', ')}], without the default ${value}`);
  }
});
