import test from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAuc } from '../src/eval/auc.js';
import {
  catalogueCoverage, coldExposure, coldTestShare, meanByGroup, meanOverLists, ndcgAtK, parseKs, popularityPercentiles, rankMetrics, ranksFromAuc, recallAtK,
} from '../src/eval/topk.js';
import type { Split } from '../src/data/types.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('ranks from per-pair AUC: candidates·(1 − auc), ties half', () => {
  assert.deepEqual(Array.from(ranksFromAuc(Float64Array.of(1, 0.7, 1 - 19.5 / 40), Float64Array.of(100, 100, 40))), [0, 30, 19.5]);
});

test('Recall@K and NDCG@K for warm, cold and all pairs, by hand', () => {
  assert.equal(recallAtK(19.5, 20), 1);
  assert.equal(recallAtK(20, 20), 0);
  close(ndcgAtK(0, 20), 1, 'first place');
  close(ndcgAtK(2, 20), 0.5, '1 / log2(4)');
  assert.equal(ndcgAtK(20, 20), 0);
  // Two warm pairs at ranks 0 and 30, one cold pair at rank 19.5.
  const m = rankMetrics(Float64Array.of(0, 30, 19.5), Int32Array.of(0, 0, 1), Uint8Array.of(1, 0), [10, 20]);
  assert.deepEqual(m['recall@10'], { warm: 0.5, cold: 0, all: 1 / 3 });
  assert.deepEqual(m['recall@20'], { warm: 0.5, cold: 1, all: 2 / 3 });
  close(m['ndcg@20'].warm, 0.5, 'ndcg warm');
  close(m['ndcg@20'].cold, 1 / Math.log2(21.5), 'ndcg cold');
  close(m['ndcg@20'].all, (1 + 1 / Math.log2(21.5)) / 3, 'ndcg all');
  assert.ok(Number.isNaN(meanByGroup([1, 0], Int32Array.of(0, 0), Uint8Array.of(1)).cold), 'an empty group is NaN, not 0');
});

test('catalogue coverage, new-product exposure and popularity percentile, by hand', () => {
  const lists = Int32Array.of(0, 1, 3, -1); // two users' top 2; -1 = an empty slot
  assert.equal(catalogueCoverage(lists, 4), 3 / 4);
  assert.equal(catalogueCoverage(Int32Array.of(0, 1, 1, -1), 4), 2 / 4);
  const warm = Uint8Array.of(1, 0, 1, 0);
  assert.equal(coldExposure(lists, warm), 2 / 3, 'products 1 and 3 are cold: 2 of 3 filled slots');
  assert.equal(coldTestShare(Int32Array.of(0, 1, 3, 2), warm), 0.5);
  // Training purchases 3, 2, 1, 0: percentiles 1, 2/3, 1/3, 0.
  const distinct = popularityPercentiles(Int32Array.of(0, 0, 0, 1, 1, 2), 4);
  [1, 2 / 3, 1 / 3, 0].forEach((p, i) => close(distinct[i], p, `product ${i}`));
  // Ties take the mid-rank: purchases 1, 1, 0, 0.
  const tied = popularityPercentiles(Int32Array.of(0, 1), 4);
  [2.5 / 3, 2.5 / 3, 0.5 / 3, 0.5 / 3].forEach((p, i) => close(tied[i], p, `tied product ${i}`));
  close(meanOverLists(lists, distinct), (1 + 2 / 3 + 0) / 3, 'mean percentile of the shown products');
});

test('--k parsing', () => {
  assert.deepEqual(parseKs('50, 10,20,10'), [10, 20, 50]);
  assert.throws(() => parseKs('10,0'), /--k: expected comma-separated positive integers/);
  assert.throws(() => parseKs('ten'), /--k/);
});

/** 3 users × 5 products scored 5, 4, 3, 2, 1 for everyone; products 3 and 4 are cold. */
function handSplit(): Split {
  return {
    userIds: ['a', 'b', 'c'],
    itemIds: ['p0', 'p1', 'p2', 'p3', 'p4'],
    items: Array.from({ length: 5 }, () => ({ title: '', category: '', imageUrl: '' })),
    warm: Uint8Array.of(1, 1, 1, 0, 0),
    train: { users: Int32Array.of(0, 1, 2, 2), items: Int32Array.of(0, 1, 0, 1), ratings: new Float32Array(4).fill(1), timestamps: new Float64Array(4).fill(NaN) },
    test: { users: Int32Array.of(0, 1, 2), items: Int32Array.of(3, 0, 2) },
    features: { data: new Float32Array(5).fill(1), rows: 5, cols: 1 },
    summary: { users: 3, items: 5, warmItems: 3, coldItems: 2, trainPairs: 4, testWarm: 2, testCold: 1, featureDim: 1, filtered: {}, seed: 1, minInteractions: 1, coldPolicy: 'hand' },
  };
}

test('evaluateAuc gives every scorer the top-k metrics: a hand-ranked case end to end', async () => {
  const split = handSplit();
  const scorer = { name: 'hand', users: { data: new Float32Array(3).fill(1), rows: 3, cols: 1 }, items: { data: Float32Array.of(5, 4, 3, 2, 1), rows: 5, cols: 1 } };
  const { topK } = await evaluateAuc(scorer, split, 1, [1, 3]);
  // Lists without the user's purchases: a [p1 p2 p3 p4], b [p0 p2 p3 p4], c [p2 p3 p4]; test ranks: a's p3 2, b's p0 0, c's p2 0.
  assert.deepEqual(topK['recall@1'], { warm: 1, cold: 0, all: 2 / 3 });
  assert.deepEqual(topK['recall@3'], { warm: 1, cold: 1, all: 1 });
  close(topK['ndcg@3'].cold, 0.5, 'cold at rank 2');
  close(topK['ndcg@3'].all, (1 + 1 + 0.5) / 3, 'all');
  assert.equal(topK['coverage@20'], 1, 'every product is in someone\'s list');
  close(topK['exposure@20'].cold, 6 / 11, 'cold slots: 2 + 2 + 2 of 4 + 4 + 3');
  close(topK['exposure@20'].coldTestShare, 1 / 3, 'one cold test pair of three');
  // Purchases 2, 2, 0, 0, 0 → percentiles 3.5/4 for p0, p1 and 1/4 for the rest: slots sum to 4 over 11.
  close(topK['popularity@20'], 4 / 11, 'popularity');
  const warmOnly = await evaluateAuc({ ...scorer, warmOnly: true }, split, 1, [3]);
  assert.ok(Number.isNaN(warmOnly.topK['recall@3'].cold), 'no cold metric for a warm-only method');
  assert.equal(warmOnly.topK['recall@3'].all, 1, '"all" stays: the list it would show');
});
