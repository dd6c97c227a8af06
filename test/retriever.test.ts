// One contract for every nearest-product retriever (exact and HNSW): brute-force results, filters,
// upserts, k past the catalog, dimension errors; plus HNSW's recall against exact search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/data/random.js';
import { ConfigError, InputError } from '../src/errors.js';
import type { Matrix } from '../src/data/types.js';
import { createRetriever, RETRIEVER_KINDS, type Retriever, type RetrieverKind } from '../src/search/index.js';

function gaussian(rows: number, cols: number, seed: number): Matrix {
  const r = new Rng(seed);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => r.normal()) };
}

/** Rows by descending inner product (ties: lower row first), after the filter. */
function bruteForce(m: Matrix, q: Float32Array, k: number, pass: (row: number) => boolean = () => true) {
  const scored: { row: number; score: number }[] = [];
  for (let row = 0; row < m.rows; row++) {
    if (!pass(row)) continue;
    let s = 0;
    for (let d = 0; d < m.cols; d++) s += q[d] * m.data[row * m.cols + d];
    scored.push({ row, score: s });
  }
  return scored.sort((a, b) => b.score - a.score || a.row - b.row).slice(0, k);
}

function assertMatches(got: { rows: Int32Array; scores: Float32Array }, want: { row: number; score: number }[], what: string) {
  assert.deepEqual([...got.rows], want.map((w) => w.row), what);
  want.forEach((w, j) => assert.ok(Math.abs(got.scores[j] - w.score) < 1e-4, `${what}: score ${got.scores[j]} vs ${w.score}`));
}

const row = (m: Matrix, r: number) => m.data.slice(r * m.cols, (r + 1) * m.cols);

for (const kind of RETRIEVER_KINDS) {
  const make = (m: Matrix): Retriever => createRetriever(kind as RetrieverKind, m, { hnsw: { threads: 1 } });

  test(`${kind}: top-k equals brute force, best first`, async () => {
    const m = gaussian(300, 8, 1);
    const index = make(m);
    assert.equal(index.size, 300);
    assert.equal(index.dim, 8);
    const queries = gaussian(20, 8, 2);
    for (let q = 0; q < queries.rows; q++) {
      const query = row(queries, q);
      assertMatches(await index.search(query, 10), bruteForce(m, query, 10), `query ${q}`);
    }
    // Concurrent searches (exact search answers them as one batch) with different k and filters.
    const mask = Uint8Array.from({ length: 300 }, (_, r) => (r % 3 ? 1 : 0));
    const concurrent = await Promise.all(Array.from({ length: queries.rows }, (_, q) =>
      index.search(row(queries, q), 1 + (q % 7), q % 2 ? { allow: mask, exclude: Int32Array.of(q, 400) } : {})));
    concurrent.forEach((got, q) => assertMatches(got, bruteForce(m, row(queries, q), 1 + (q % 7),
      (r) => q % 2 === 0 || (mask[r] === 1 && r !== q)), `concurrent query ${q}`));
    const batch = await index.searchBatch!(queries.data, 5, { exclude: Array.from({ length: 20 }, (_, q) => Int32Array.of(q)) });
    for (let q = 0; q < queries.rows; q++) {
      const query = row(queries, q);
      assertMatches(batch[q], bruteForce(m, query, 5, (r) => r !== q), `batch query ${q}`);
    }
  });

  test(`${kind}: filters still give k results when enough rows pass`, async () => {
    const m = gaussian(400, 8, 3);
    const index = make(m);
    const query = row(gaussian(1, 8, 4), 0);
    const best = bruteForce(m, query, 400);
    // exclude the 50 best rows (plus rows outside the index, which are ignored)
    const exclude = Int32Array.from([...best.slice(0, 50).map((b) => b.row), -3, 999]);
    const banned = new Set(exclude);
    assertMatches(await index.search(query, 10, { exclude }), bruteForce(m, query, 10, (r) => !banned.has(r)), 'exclude');
    // an allow mask passing one row in 40: the graph cannot find them, the fallback must
    const allow = Uint8Array.from({ length: 400 }, (_, r) => (r % 40 === 7 ? 1 : 0));
    const few = await index.search(query, 20, { allow });
    assertMatches(few, bruteForce(m, query, 20, (r) => allow[r] === 1), 'sparse allow');
    assert.equal(few.rows.length, 10);
    // allow and exclude together; the mask stops at row 200, so later rows are not allowed
    const half = Uint8Array.from({ length: 200 }, (_, r) => r % 2);
    assertMatches(await index.search(query, 10, { allow: half, exclude }),
      bruteForce(m, query, 10, (r) => r < 200 && r % 2 === 1 && !banned.has(r)), 'allow + exclude');
  });

  test(`${kind}: upsert replaces and appends rows, searchable at once`, async () => {
    const m = gaussian(200, 6, 5);
    const index = make(m);
    const query = row(gaussian(1, 6, 6), 0);
    const far = query.map((x) => 10 * x);
    index.upsert(17, far);
    let top = await index.search(query, 1);
    assert.deepEqual([...top.rows], [17]);
    index.upsert(17, query.map((x) => -10 * x)); // replaced again: now the worst row
    top = await index.search(query, 200);
    assert.equal(top.rows[199], 17);
    index.upsert(200, query.map((x) => 20 * x));
    assert.equal(index.size, 201);
    top = await index.search(query, 2);
    assert.deepEqual([...top.rows], [200, bruteForce(m, query, 1, (r) => r !== 17)[0].row]);
    assert.throws(() => index.upsert(202, query), InputError);
    assert.throws(() => index.upsert(-1, query), InputError);
    assert.deepEqual([...index.vector(200)], [...query.map((x) => 20 * x)], 'vector() reads the appended row');
    assert.deepEqual([...index.vector(3)], [...row(m, 3)], 'and an untouched one');
    assert.throws(() => index.vector(201), InputError);
  });

  test(`${kind}: k past the catalog, k = 0, an empty index, dimension errors`, async () => {
    const m = gaussian(12, 4, 7);
    const index = make(m);
    const query = row(gaussian(1, 4, 8), 0);
    assertMatches(await index.search(query, 50), bruteForce(m, query, 12), 'k > size');
    assert.equal((await index.search(query, 0)).rows.length, 0);
    // Bad arguments are the library's typed errors, naming the argument.
    await assert.rejects(index.search(new Float32Array(5), 3), (e: unknown) => e instanceof InputError && e.field === 'query');
    await assert.rejects(index.search(query, -1), (e: unknown) => e instanceof ConfigError && e.field === 'k');
    await assert.rejects(index.searchBatch!(new Float32Array(6), 3), (e: unknown) => e instanceof InputError && e.field === 'queries');
    await assert.rejects(index.searchBatch!(new Float32Array(2 * 4), 3, { exclude: [new Int32Array(0)] }), (e: unknown) => e instanceof InputError && e.field === 'exclude');
    assert.throws(() => index.upsert(0, new Float32Array(3)), (e: unknown) => e instanceof InputError && e.field === 'vector');
    const empty = make({ rows: 0, cols: 4, data: new Float32Array(0) });
    assert.equal((await empty.search(query, 5)).rows.length, 0);
    empty.upsert(0, query);
    assert.deepEqual([...(await empty.search(query, 5)).rows], [0]);
  });
}

test('hnsw: recall@10 against exact search on a seeded random set is at least 0.95', async () => {
  const m = gaussian(5000, 32, 9);
  const exact = createRetriever('exact', m);
  const hnsw = createRetriever('hnsw', m, { hnsw: { threads: 1 } });
  const queries = gaussian(100, 32, 10);
  let hits = 0;
  for (let q = 0; q < queries.rows; q++) {
    const query = row(queries, q);
    const truth = new Set((await exact.search(query, 10)).rows);
    for (const r of (await hnsw.search(query, 10)).rows) if (truth.has(r)) hits++;
  }
  const recall = hits / (10 * queries.rows);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
});

test('createRetriever refuses an unknown kind', () => {
  assert.throws(() => createRetriever('ivf' as RetrieverKind, gaussian(2, 2, 1)), (e: unknown) => e instanceof ConfigError && /unknown index "ivf": use one of exact, hnsw/.test(e.message));
});
