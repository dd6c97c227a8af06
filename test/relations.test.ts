// Table 3: relation accuracy (threshold choice, pair sampling) and the IBR baseline.
import test from 'node:test';
import assert from 'node:assert/strict';
import { generate } from '../src/data/generate.js';
import { prepareSplit } from '../src/data/split.js';
import type { Matrix } from '../src/data/types.js';
import { Rng } from '../src/data/random.js';
import {
  bestThreshold, buildRelationPairs, coPurchasedPairs, innSimilarity, pairKey, relationAccuracy, relationPairKeys,
  type RelationPairs,
} from '../src/eval/relations.js';
import { ibrLossGrad, ibrSimilarity, trainIbr, type LabelledPairs } from '../src/baselines/ibr.js';
import { matrixRows } from '../src/model/pair-metric.js';

const split = prepareSplit(generate('tiny', 1), { seed: 1 });

test('bestThreshold: known scores give the known threshold and accuracy', () => {
  // Related pairs score 0.6, 0.8, 0.9 and one 0.1; unrelated 0.2, 0.3, 0.7.
  const scores = [0.6, 0.8, 0.9, 0.1, 0.2, 0.3, 0.7];
  const labels = [1, 1, 1, 1, 0, 0, 0];
  const { threshold, accuracy } = bestThreshold(scores, labels);
  assert.ok(Math.abs(threshold - 0.45) < 1e-12); // between 0.3 and 0.6: 5 of 7 right
  assert.equal(accuracy, 5 / 7);
  // Separable: any threshold in the gap is perfect; all-equal scores fall back to the majority.
  assert.deepEqual(bestThreshold([0, 1], [0, 1]), { threshold: 0.5, accuracy: 1 });
  assert.equal(bestThreshold([2, 2, 2], [1, 1, 0]).accuracy, 2 / 3);
});

test('relationAccuracy applies the validation threshold to the held-out pairs', () => {
  const n = 8;
  const pairs: RelationPairs = {
    first: Int32Array.from({ length: n }, (_, k) => k),
    second: Int32Array.from({ length: n }, (_, k) => k + 100),
    related: Uint8Array.of(1, 1, 0, 0, 1, 1, 0, 0),
    validation: Uint8Array.of(1, 1, 1, 1, 0, 0, 0, 0),
  };
  // Validation: related 0.9, 0.8; unrelated 0.1, 0.2 → t = 0.5. Held out: 0.7 ✓, 0.4 ✗, 0.6 ✗, 0.3 ✓.
  const scores = Float32Array.of(0.9, 0.8, 0.1, 0.2, 0.7, 0.4, 0.6, 0.3);
  const result = relationAccuracy((first) => Float32Array.from(first, (k) => scores[k]), pairs);
  assert.ok(Math.abs(result.threshold - 0.5) < 1e-6);
  assert.equal(result.validationAccuracy, 1);
  assert.equal(result.accuracy, 0.5);
  assert.equal(result.heldOutPairs, 4);
});

test('buildRelationPairs: balanced, warm, R co-purchased, Q never, deterministic', () => {
  const pairs = buildRelationPairs(split, { pairs: 500, seed: 3 });
  const again = buildRelationPairs(split, { pairs: 500, seed: 3 });
  assert.deepEqual(pairs, again);
  const copurchased = coPurchasedPairs(split);
  let related = 0;
  let validation = 0;
  for (let k = 0; k < pairs.first.length; k++) {
    const [i, j] = [pairs.first[k], pairs.second[k]];
    assert.ok(i !== j && split.warm[i] && split.warm[j]);
    assert.equal(copurchased.has(pairKey(i, j)), pairs.related[k] === 1);
    related += pairs.related[k];
    validation += pairs.validation[k];
  }
  assert.equal(related, 500);
  assert.equal(pairs.first.length, 1000);
  assert.equal(validation, 500);
  assert.equal(relationPairKeys(pairs).size, 1000);
});

test('IBR: gradient of the logistic loss matches finite differences', () => {
  const rng = new Rng(7);
  const features: Matrix = { data: rng.fillNormal(new Float32Array(6 * 5), 0.5), rows: 6, cols: 5 };
  const projection: Matrix = { data: rng.fillNormal(new Float32Array(3 * 5), 0.5), rows: 3, cols: 5 };
  const pairs: LabelledPairs = { first: Int32Array.of(0, 1, 2, 3), second: Int32Array.of(4, 5, 0, 1), labels: Uint8Array.of(1, 0, 1, 0) };
  const offset = 0.7;
  const rows = matrixRows(features);
  const { gradY, gradC } = ibrLossGrad(projection, offset, rows, pairs);
  const h = 1e-2;
  const lossAt = (data: Float32Array, c: number) => ibrLossGrad({ ...projection, data }, c, rows, pairs).loss;
  for (let k = 0; k < projection.data.length; k++) {
    const plus = projection.data.slice();
    const minus = projection.data.slice();
    plus[k] += h;
    minus[k] -= h;
    const numeric = (lossAt(plus, offset) - lossAt(minus, offset)) / (2 * h);
    assert.ok(Math.abs(numeric - gradY[k]) < 2e-3 + 2e-2 * Math.abs(numeric), `dY[${k}]: ${gradY[k]} vs ${numeric}`);
  }
  const numericC = (lossAt(projection.data, offset + h) - lossAt(projection.data, offset - h)) / (2 * h);
  assert.ok(Math.abs(numericC - gradC) < 1e-3, `dc: ${gradC} vs ${numericC}`);
});

test('IBR beats INN and chance on tiny (fixed seed, evaluation pairs held out of training)', () => {
  const pairs = buildRelationPairs(split, { pairs: 1000, seed: 1 });
  const ibr = trainIbr(split, { rank: 16, epochs: 5, threads: 1, seed: 1 }, relationPairKeys(pairs));
  assert.ok(ibr.log[ibr.log.length - 1] < ibr.log[0], `loss ${ibr.log.join(', ')}`);
  const ibrAcc = relationAccuracy(ibrSimilarity(ibr, split.features), pairs).accuracy;
  const innAcc = relationAccuracy(innSimilarity(split), pairs).accuracy;
  assert.ok(ibrAcc > 0.6, `IBR ${ibrAcc}`);
  assert.ok(ibrAcc > innAcc, `IBR ${ibrAcc} vs INN ${innAcc}`);
});
