import test from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAuc } from '../src/eval/auc.js';
import { mostPopScorer, randScorer, wboiScorer } from '../src/eval/baselines.js';
import type { Matrix, Split } from '../src/data/types.js';
import { Rng } from '../src/data/random.js';
import { widenFeatures } from '../src/data/features.js';

/** A split with 5 users and 8 items; item 7 is cold. */
function handSplit(): Split {
  const train = { u: [0, 0, 1, 1, 2, 3, 3, 4], i: [0, 1, 1, 2, 0, 3, 4, 5] };
  const rng = new Rng(3);
  const features: Matrix = { data: rng.fillNormal(new Float32Array(8 * 4)).map(Math.abs), rows: 8, cols: 4 };
  const warm = new Uint8Array(8).fill(1);
  warm[6] = 0;
  warm[7] = 0;
  return {
    userIds: ['a', 'b', 'c', 'd', 'e'],
    itemIds: ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'],
    items: Array.from({ length: 8 }, () => ({ title: '', category: '', imageUrl: '' })),
    warm,
    train: {
      users: Int32Array.from(train.u),
      items: Int32Array.from(train.i),
      ratings: Float32Array.from([5, 1, 2, 2, 3, 4, 4, 1]),
      timestamps: new Float64Array(8).fill(NaN),
    },
    test: { users: Int32Array.from([0, 1, 2, 3, 4]), items: Int32Array.from([2, 7, 1, 6, 0]) },
    features,
    summary: { users: 5, items: 8, warmItems: 6, coldItems: 2, trainPairs: 8, testWarm: 3, testCold: 2, featureDim: 4, filtered: {}, seed: 1, minInteractions: 1, coldPolicy: 'hand' },
  };
}

/** Eq. 4 counted directly: candidates are all items but the test item and the user's training items. */
function bruteForceAuc(score: (u: number, i: number) => number, split: Split): { warm: number; cold: number } {
  const sums = { warm: [0, 0], cold: [0, 0] };
  split.test.users.forEach((u, j) => {
    const p = split.test.items[j];
    const seen = new Set<number>();
    split.train.users.forEach((tu, e) => tu === u && seen.add(split.train.items[e]));
    let below = 0;
    let n = 0;
    for (let i = 0; i < split.itemIds.length; i++) {
      if (i === p || seen.has(i)) continue;
      n++;
      const d = score(u, p) - score(u, i);
      below += d > 0 ? 1 : d === 0 ? 0.5 : 0;
    }
    const bucket = split.warm[p] ? sums.warm : sums.cold;
    bucket[0] += below / n;
    bucket[1] += 1;
  });
  return { warm: sums.warm[0] / sums.warm[1], cold: sums.cold[0] / sums.cold[1] };
}

const dot = (m: { users: Matrix; items: Matrix }) => (u: number, i: number) => {
  let s = 0;
  for (let c = 0; c < m.users.cols; c++) s += m.users.data[u * m.users.cols + c] * m.items.data[i * m.items.cols + c];
  return Math.fround(s);
};

test('evaluateAuc equals a brute-force count of eq. 4 (random factors, and MostPop with ties)', async () => {
  const split = handSplit();
  for (const scorer of [randScorer(split, 5), mostPopScorer(split)]) {
    const got = await evaluateAuc(scorer, split, 2);
    const want = bruteForceAuc(dot(scorer), split);
    assert.ok(Math.abs(got.warm - want.warm) < 1e-6, `${scorer.name} warm ${got.warm} vs ${want.warm}`);
    assert.ok(Math.abs(got.cold - want.cold) < 1e-6, `${scorer.name} cold ${got.cold} vs ${want.cold}`);
    assert.equal(got.pairsWarm, 3);
    assert.equal(got.pairsCold, 2);
  }
});

test('MostPop scores are training counts; cold items tie at zero', async () => {
  const split = handSplit();
  const pop = mostPopScorer(split);
  assert.deepEqual(Array.from(pop.items.data), [2, 2, 1, 1, 1, 1, 0, 0]);
  // User 1 (seen 1, 2) tests cold item 7: candidates 0,3,4,5,6 → only item 6 ties → (0 + 0.5) / 5.
  const got = await evaluateAuc(pop, split, 1);
  const user1 = 0.5 / 5;
  // User 3 (seen 3, 4) tests cold item 6: candidates 0,1,2,5,7 → only item 7 ties.
  assert.ok(Math.abs(got.cold - (user1 + 0.5 / 5) / 2) < 1e-9);
});

test('WBOI user vector is the rating-weighted mean of image features, compared by cosine', () => {
  const split = handSplit();
  const wboi = wboiScorer(split);
  const f = widenFeatures(split.features);
  // User 0 bought items 0 (rating 5) and 1 (rating 1).
  const mean = Array.from({ length: 4 }, (_, c) => (5 * f.data[c] + 1 * f.data[4 + c]) / 6);
  const norm = Math.hypot(...mean);
  for (let c = 0; c < 4; c++) assert.ok(Math.abs(wboi.users.data[c] - mean[c] / norm) < 1e-6);
  const itemNorm = Math.hypot(...Array.from(f.data.subarray(8, 12)));
  assert.ok(Math.abs(wboi.items.data[8] - f.data[8] / itemNorm) < 1e-6);
});
