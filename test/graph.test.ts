import test from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, negativeTable, nodeFrequencies } from '../src/graph/graph.js';
import { generateWalks, interleaveWalks, keepWalks } from '../src/graph/walks.js';
import type { Interactions } from '../src/data/types.js';

// 3 users, 4 items; item 3 has no training interaction (cold).
const train: Interactions = {
  users: Int32Array.from([0, 0, 1, 2, 2]),
  items: Int32Array.from([0, 1, 1, 2, 0]),
  ratings: Float32Array.from([5, 1, 3, 4, 2]),
  timestamps: new Float64Array(5).fill(NaN),
};

test('buildGraph: users first, warm products numbered in item order, cold products are not nodes', () => {
  const g = buildGraph(train, 3, 4);
  assert.equal(g.nUsers, 3);
  assert.equal(g.nNodes, 6);
  assert.deepEqual(Array.from(g.itemNode), [3, 4, 5, -1]);
  assert.deepEqual(Array.from(g.nodeItem), [0, 1, 2]);
  const neighbours = (v: number) => Array.from(g.indices.subarray(g.indptr[v], g.indptr[v + 1])).sort();
  assert.deepEqual(neighbours(0), [3, 4]);
  assert.deepEqual(neighbours(3), [0, 2]);
  assert.deepEqual(neighbours(4), [0, 1]);
  // Edge weights are the ratings, in both directions.
  const w = (v: number, to: number) => g.weights[g.indptr[v] + Array.from(g.indices.subarray(g.indptr[v], g.indptr[v + 1])).indexOf(to)];
  assert.equal(w(0, 3), 5);
  assert.equal(w(3, 0), 5);
  assert.equal(w(5, 2), 4);
});

test('walks on the HIN alternate users and products and follow edges', async () => {
  const g = buildGraph(train, 3, 4);
  const corpus = await generateWalks(g, { walksPerNode: 3, walkLength: 9, weighted: true, seed: 4, threads: 2 });
  assert.equal(corpus.length, 3 * g.nNodes * 9);
  for (let start = 0; start < corpus.length; start += 9) {
    for (let k = 1; k < 9; k++) {
      const a = corpus[start + k - 1];
      const b = corpus[start + k];
      assert.notEqual(a < g.nUsers, b < g.nUsers, 'walk must alternate between users and products');
      assert.ok(Array.from(g.indices.subarray(g.indptr[a], g.indptr[a + 1])).includes(b), `step ${a}→${b} is not an edge`);
    }
  }
});

test('negativeTable draws nodes in proportion to count^0.75', () => {
  const counts = Float64Array.from([1, 16, 0, 81]);
  const table = negativeTable(counts, 0.75, 1 << 16);
  const hits = nodeFrequencies(table, 4);
  const expected = [1, 8, 0, 27].map((x) => x / 36);
  for (let v = 0; v < 4; v++) assert.ok(Math.abs(hits[v] / table.length - expected[v]) < 0.002, `node ${v}`);
});

test('keepWalks and interleaveWalks: walks filtered by start node, merged evenly, each corpus in its own order', () => {
  const walk = (start: number) => [start, start + 1];
  const a = Int32Array.from([0, 1, 2, 3, 4, 5].flatMap(walk));
  const b = keepWalks(Int32Array.from([10, 11, 12, 13].flatMap(walk)), 2, (node) => node % 2 === 0);
  assert.deepEqual(Array.from(b), [10, 11, 12, 13]);
  const merged = interleaveWalks(a, b, 2);
  const starts = Array.from({ length: merged.length / 2 }, (_, w) => merged[2 * w]);
  assert.deepEqual(starts, [0, 1, 2, 10, 3, 4, 5, 12], 'two extra walks among six: one in each half');
  assert.deepEqual(Array.from(merged.subarray(6, 8)), [10, 11], 'walks are moved whole');
  assert.deepEqual(Array.from(interleaveWalks(a, new Int32Array(0), 2)), Array.from(a));
});
