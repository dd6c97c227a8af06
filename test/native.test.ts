// Tests of the native core (native/src) through its typed surface: random walks, skip-gram, MLP, ranking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native, type Mlp, type SkipgramArgs } from '../src/native.js';

// ---------- helpers ----------

/** Deterministic PRNG (mulberry32) for test data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Undirected CSR from an edge list (each edge stored both ways), optional per-edge weights. */
function csr(nNodes: number, edges: [number, number, number?][]): { indptr: Int32Array; indices: Int32Array; weights: Float32Array } {
  const adj: [number, number][][] = Array.from({ length: nNodes }, () => []);
  for (const [a, b, w = 1] of edges) {
    adj[a].push([b, w]);
    adj[b].push([a, w]);
  }
  const indptr = new Int32Array(nNodes + 1);
  for (let i = 0; i < nNodes; i++) indptr[i + 1] = indptr[i] + adj[i].length;
  const flat = adj.flat();
  return { indptr, indices: Int32Array.from(flat.map((e) => e[0])), weights: Float32Array.from(flat.map((e) => e[1])) };
}

function hasEdge(indptr: Int32Array, indices: Int32Array, a: number, b: number): boolean {
  for (let k = indptr[a]; k < indptr[a + 1]; k++) if (indices[k] === b) return true;
  return false;
}

function closeArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    assert.ok(diff <= atol + rtol * Math.abs(expected[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

// ---------- random walks ----------

test('randomWalks: bipartite walks stay on edges, alternate sides, have the documented shape', async () => {
  const nU = 4, nP = 5, n = nU + nP;
  const r = rng(1);
  const edges: [number, number][] = [];
  for (let u = 0; u < nU; u++) for (let p = 0; p < nP; p++) if (r() < 0.5 || p === u) edges.push([u, nU + p]);
  const g = csr(n, edges);
  const walksPerNode = 3, walkLength = 7;
  const walks = await native.randomWalks(g.indptr, g.indices, null, walksPerNode, walkLength, 42, 1);
  assert.ok(walks instanceof Int32Array);
  assert.equal(walks.length, walksPerNode * n * walkLength);
  for (let w = 0; w < walksPerNode * n; w++) {
    for (let t = 1; t < walkLength; t++) {
      const a = walks[w * walkLength + t - 1], b = walks[w * walkLength + t];
      assert.ok(hasEdge(g.indptr, g.indices, a, b), `walk ${w} step ${t}: ${a}→${b} is not an edge`);
      assert.notEqual(a < nU, b < nU, 'walks alternate users and products');
    }
  }
  // Each round starts exactly once from every node.
  for (let round = 0; round < walksPerNode; round++) {
    const starts = new Set<number>();
    for (let k = 0; k < n; k++) starts.add(walks[(round * n + k) * walkLength]);
    assert.equal(starts.size, n);
  }
});

test('randomWalks: identical for 1 and 2 threads, seed-dependent, isolated nodes repeat', async () => {
  const n = 200;
  const r = rng(2);
  const edges: [number, number][] = [];
  for (let i = 0; i < 600; i++) edges.push([Math.floor(r() * (n - 1)), Math.floor(r() * (n - 1))]);
  const g = csr(n, edges); // node n-1 is isolated
  const a = await native.randomWalks(g.indptr, g.indices, null, 4, 10, 7, 1);
  const b = await native.randomWalks(g.indptr, g.indices, null, 4, 10, 7, 2);
  const c = await native.randomWalks(g.indptr, g.indices, null, 4, 10, 8, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const wa = await native.randomWalks(g.indptr, g.indices, g.weights, 4, 10, 7, 1);
  const wb = await native.randomWalks(g.indptr, g.indices, g.weights, 4, 10, 7, 2);
  assert.deepEqual(wa, wb);
  for (let w = 0; w < a.length / 10; w++) {
    if (a[w * 10] === n - 1) for (let t = 0; t < 10; t++) assert.equal(a[w * 10 + t], n - 1);
  }
});

test('randomWalks: weighted transitions follow the weight ratio', async () => {
  // Star: 0 — 1 (weight 1), 0 — 2 (weight 3).
  const g = csr(3, [[0, 1, 1], [0, 2, 3]]);
  const walks = await native.randomWalks(g.indptr, g.indices, g.weights, 4000, 3, 5, 2);
  let to1 = 0, to2 = 0;
  for (let i = 0; i + 1 < walks.length; i++) {
    if (i % 3 === 2 || walks[i] !== 0) continue;
    if (walks[i + 1] === 1) to1++;
    else if (walks[i + 1] === 2) to2++;
  }
  const frac = to2 / (to1 + to2);
  assert.ok(to1 + to2 > 4000, `enough transitions (${to1 + to2})`);
  assert.ok(Math.abs(frac - 0.75) < 0.03, `P(0→2) ≈ 0.75, got ${frac}`);
  const uniform = await native.randomWalks(g.indptr, g.indices, null, 4000, 3, 5, 2);
  let u2 = 0, uAll = 0;
  for (let i = 0; i + 1 < uniform.length; i++) {
    if (i % 3 === 2 || uniform[i] !== 0) continue;
    uAll++;
    if (uniform[i + 1] === 2) u2++;
  }
  assert.ok(Math.abs(u2 / uAll - 0.5) < 0.03, `unweighted P(0→2) ≈ 0.5, got ${u2 / uAll}`);
});

test('randomWalks: rejects bad arguments', async () => {
  const g = csr(3, [[0, 1], [1, 2]]);
  assert.throws(() => native.randomWalks(g.indptr, new Int32Array([0, 1, 9, 1]), null, 1, 3, 1, 1), RangeError);
  assert.throws(() => native.randomWalks(g.indptr, g.indices, null, 1, 0, 1, 1), RangeError);
  assert.throws(() => native.randomWalks(new Float32Array(4) as unknown as Int32Array, g.indices, null, 1, 3, 1, 1), TypeError);
});

// ---------- skip-gram ----------

const MAX_LOGIT = 30;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Plain single-thread reference of one skip-gram pass (negTable of one id, so no RNG is involved). */
function skipgramReference(a: SkipgramArgs): { lossUsers: number; lossProducts: number; pairsUsers: number; pairsProducts: number } {
  const X = a.vectors, Y = a.contexts ?? a.vectors, dim = a.dim, L = a.walkLength;
  const total = a.corpus.length;
  const stats = { lossUsers: 0, lossProducts: 0, pairsUsers: 0, pairsProducts: 0 };
  const neu1e = new Float64Array(dim);
  let done = 0;
  for (let w = 0; w < total / L; w++) {
    for (let p = 0; p < L; p++, done++) {
      const lr = a.lrStart + (a.lrEnd - a.lrStart) * Math.min(1, done / total);
      const v = a.corpus[w * L + p];
      const lrv = Math.fround(lr * (a.centreScale ? a.centreScale[v] : 1));
      const user = v < a.nUsers;
      for (let q = Math.max(0, p - a.radius); q <= Math.min(L - 1, p + a.radius); q++) {
        if (q === p) continue;
        const c = a.corpus[w * L + q];
        const targets: [number, number][] = [[c, 1]];
        for (let k = 0; k < a.negatives; k++) {
          const s = a.negTable![0];
          if (s !== c) targets.push([s, 0]);
        }
        neu1e.fill(0);
        for (const [t, label] of targets) {
          let f = 0;
          for (let d = 0; d < dim; d++) f += X[v * dim + d] * Y[t * dim + d];
          f = Math.min(MAX_LOGIT, Math.max(-MAX_LOGIT, f));
          const s = sigmoid(f);
          const g = (label - s) * lrv;
          const loss = -Math.log(label === 1 ? s : 1 - s);
          if (user) stats.lossUsers += loss;
          else stats.lossProducts += loss;
          for (let d = 0; d < dim; d++) {
            neu1e[d] += g * Y[t * dim + d];
            Y[t * dim + d] += g * X[v * dim + d];
          }
        }
        for (let d = 0; d < dim; d++) X[v * dim + d] += neu1e[d];
        if (user) stats.pairsUsers++;
        else stats.pairsProducts++;
      }
    }
  }
  return stats;
}

function randomTable(n: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * scale);
}

for (const negatives of [0, 3]) {
  test(`skipgram: one single-thread pass matches the reference (negatives ${negatives})`, async () => {
    const nNodes = 7, dim = 8, nUsers = 3;
    // Two walks of length 6 (alternating users 0..2 and products 3..6, with revisits).
    const corpus = Int32Array.from([0, 3, 1, 4, 0, 3, 2, 5, 1, 6, 2, 6]);
    const base: SkipgramArgs = {
      vectors: randomTable(nNodes * dim, 11, 1),
      contexts: negatives > 0 ? randomTable(nNodes * dim, 12, 1) : null,
      dim, corpus, walkLength: 6, radius: 2, negatives,
      negTable: negatives > 0 ? Int32Array.from([5]) : null,
      lrStart: 0.2, lrEnd: 0.05,
      centreScale: Float32Array.from({ length: nNodes }, (_, i) => 0.5 + 0.1 * i),
      nUsers, threads: 1, seed: 3,
    };
    const ref: SkipgramArgs = { ...base, vectors: base.vectors.slice(), contexts: base.contexts ? base.contexts.slice() : null };
    const expected = skipgramReference(ref);
    const got = await native.skipgram(base);
    assert.equal(got.pairsUsers, expected.pairsUsers);
    assert.equal(got.pairsProducts, expected.pairsProducts);
    closeArrays([got.lossUsers, got.lossProducts], [expected.lossUsers, expected.lossProducts], 1e-4, 1e-4, 'loss');
    closeArrays(base.vectors, ref.vectors, 2e-5, 1e-4, 'vectors');
    if (base.contexts) closeArrays(base.contexts, ref.contexts!, 2e-5, 1e-4, 'contexts');
    // Pair count: per walk of 6 with radius 2: Σ_p #contexts = 2+3+4+4+3+2 = 18.
    assert.equal(got.pairsUsers + got.pairsProducts, 36);
  });
}

test('skipgram: training separates two clusters (negative sampling, 2 threads)', async () => {
  // Users 0..7 buy products 16..23 (cluster A); users 8..15 buy products 24..31 (cluster B).
  const nUsers = 16, n = 32, dim = 16;
  const r = rng(5);
  const edges: [number, number][] = [];
  for (let u = 0; u < nUsers; u++) {
    const base = u < 8 ? 16 : 24;
    for (let k = 0; k < 8; k++) if (r() < 0.6) edges.push([u, base + k]);
    edges.push([u, base + (u % 8)]);
  }
  const g = csr(n, edges);
  const corpus = await native.randomWalks(g.indptr, g.indices, null, 20, 10, 9, 2);
  const vectors = randomTable(n * dim, 13, 0.5 / dim);
  const contexts = null; // the paper's shared table: σ(X_c·X_v)
  const negTable = Int32Array.from({ length: 1000 }, (_, i) => i % n);
  const cos = (a: number, b: number): number => {
    let ab = 0, aa = 0, bb = 0;
    for (let d = 0; d < dim; d++) {
      const x = vectors[a * dim + d], y = vectors[b * dim + d];
      ab += x * y; aa += x * x; bb += y * y;
    }
    return ab / Math.sqrt(aa * bb + 1e-30);
  };
  const cluster = (a: number): boolean => (a < nUsers ? a < 8 : a < 24);
  // Mean within-cluster minus mean across-cluster cosine, over all pairs or the pairs of one node.
  const gap = (node = -1): number => {
    let within = 0, across = 0, nw = 0, na = 0;
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        if (node >= 0 && a !== node && b !== node) continue;
        if (cluster(a) === cluster(b)) { within += cos(a, b); nw++; } else { across += cos(a, b); na++; }
      }
    }
    return within / nw - across / na;
  };
  const before = gap();
  let firstLoss = 0, lastLoss = 0;
  for (let epoch = 0; epoch < 5; epoch++) {
    const st = await native.skipgram({
      vectors, contexts, dim, corpus, walkLength: 10, radius: 2, negatives: 5, negTable,
      lrStart: 0.05 * (1 - epoch / 5), lrEnd: 0.05 * (1 - (epoch + 1) / 5) + 1e-4, centreScale: null,
      nUsers, threads: 2, seed: epoch,
    });
    const loss = (st.lossUsers + st.lossProducts) / (st.pairsUsers + st.pairsProducts);
    if (epoch === 0) firstLoss = loss;
    lastLoss = loss;
    assert.ok(st.pairsUsers > 0 && st.pairsProducts > 0);
  }
  const after = gap();
  assert.ok(Math.abs(before) < 0.2, `random init has no cluster structure (${before})`);
  assert.ok(after > 0.35, `within-cluster cosine exceeds across-cluster by > 0.35 after training (${after})`);
  for (let a = 0; a < n; a++) assert.ok(gap(a) > 0.1, `node ${a} is closer to its own cluster (${gap(a)})`);
  assert.ok(lastLoss < firstLoss, `loss per pair decreases (${firstLoss} → ${lastLoss})`);
});

test('skipgram: rejects bad arguments', async () => {
  const args: SkipgramArgs = {
    vectors: new Float32Array(12), contexts: null, dim: 3, corpus: Int32Array.from([0, 1, 2, 3]), walkLength: 2,
    radius: 1, negatives: 0, negTable: null, lrStart: 0.1, lrEnd: 0.1, centreScale: null, nUsers: 2, threads: 1, seed: 1,
  };
  assert.throws(() => native.skipgram({ ...args, walkLength: 3 }), /corpus/);
  assert.throws(() => native.skipgram({ ...args, negatives: 2 }), /negTable/);
  assert.throws(() => native.skipgram({ ...args, contexts: new Float32Array(3) }), RangeError);
  assert.throws(() => native.skipgram({ ...args, vectors: new Float64Array(12) as unknown as Float32Array }), TypeError);
  await assert.rejects(native.skipgram({ ...args, corpus: Int32Array.from([0, 1, 2, 4]) }), /corpus/);
  const st = await native.skipgram(args);
  assert.equal(st.pairsUsers + st.pairsProducts, 4);
});

// ---------- MLP ----------

/** Σ R ⊙ net(x) with train=false: a scalar whose gradient wrt the output is R. */
function objective(net: Mlp, x: Float32Array, rows: number, R: Float32Array): number {
  const out = net.forward(x, rows, false);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += R[i] * out[i];
  return s;
}

/** TS reference forward (no dropout) from getParams: the output and the pre-activations of every ReLU (for kinks). */
function referenceForward(params: Float32Array[], sizes: number[], x: Float32Array, rows: number, outputRelu: boolean): { out: number[]; relu: number[] } {
  const all: number[] = [];
  let a = Array.from(x.subarray(0, rows * sizes[0]));
  for (let l = 0; l + 1 < sizes.length; l++) {
    const W = params[2 * l], b = params[2 * l + 1], nIn = sizes[l], nOut = sizes[l + 1];
    const z = new Array<number>(rows * nOut).fill(0);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < nOut; j++) {
        let s = b[j];
        for (let i = 0; i < nIn; i++) s += a[r * nIn + i] * W[i * nOut + j];
        z[r * nOut + j] = s;
      }
    }
    const last = l + 2 === sizes.length;
    if (!last || outputRelu) all.push(...z);
    a = z.map((v) => (last && !outputRelu ? v : Math.max(v, 0)));
  }
  return { out: a, relu: all };
}

function preActivations(params: Float32Array[], sizes: number[], x: Float32Array, rows: number, outputRelu: boolean): number[] {
  return referenceForward(params, sizes, x, rows, outputRelu).relu;
}

const signs = (v: number[]): string => v.map((x) => (x > 0 ? '+' : '-')).join('');

/** Accumulated gradients of a dropout-free net, read out with an Adam step that reduces to p −= g. */
function gradients(net: Mlp, x: Float32Array, rows: number, gradOut: Float32Array): { dx: Float32Array; grads: Float32Array[] } {
  const saved = net.getParams();
  net.zeroGrad();
  net.forward(x, rows, true);
  const dx = net.backward(gradOut, rows);
  const before = net.getParams();
  // β1 = β2 = 0: m = g, v = g², bias corrections 1; lr = eps = 1e6: Δp = −1e6·g/(|g| + 1e6) ≈ −g.
  net.adamStep(1e6, 0, 0, 1e6);
  const after = net.getParams();
  net.setParams(saved);
  return { dx, grads: before.map((p, i) => p.map((v, j) => v - after[i][j])) };
}

for (const outputRelu of [false, true]) {
  test(`Mlp: backward matches central finite differences (outputRelu ${outputRelu})`, () => {
    const sizes = [3, 4, 5, 2], rows = 4, eps = 1e-2;
    const net = new native.Mlp(sizes, { dropout: 0, outputRelu, seed: 17 });
    assert.deepEqual(net.sizes, sizes);
    // Positive-ish biases so that most units are active (away from kinks).
    const params = net.getParams();
    for (let l = 0; l < 3; l++) params[2 * l + 1].fill(0.3);
    net.setParams(params);
    const x = randomTable(rows * 3, 23, 2);
    const R = randomTable(rows * 2, 29, 2);
    const { dx, grads } = gradients(net, x, rows, R);
    const ref = signs(preActivations(net.getParams(), sizes, x, rows, outputRelu));
    let checked = 0, total = 0;
    // Input gradients.
    for (let i = 0; i < x.length; i++) {
      const xp = x.slice(), xm = x.slice();
      xp[i] += eps;
      xm[i] -= eps;
      total++;
      const ps = net.getParams();
      if (signs(preActivations(ps, sizes, xp, rows, outputRelu)) !== ref || signs(preActivations(ps, sizes, xm, rows, outputRelu)) !== ref) continue;
      checked++;
      const num = (objective(net, xp, rows, R) - objective(net, xm, rows, R)) / (2 * eps);
      assert.ok(Math.abs(num - dx[i]) <= 2e-2 * Math.max(1e-1, Math.abs(num)), `dx[${i}]: ${dx[i]} vs numeric ${num}`);
    }
    // Parameter gradients, perturbing through setParams.
    const p0 = net.getParams();
    for (let k = 0; k < p0.length; k++) {
      for (let j = 0; j < p0[k].length; j++) {
        const plus = p0.map((p) => p.slice()), minus = p0.map((p) => p.slice());
        plus[k][j] += eps;
        minus[k][j] -= eps;
        total++;
        if (signs(preActivations(plus, sizes, x, rows, outputRelu)) !== ref || signs(preActivations(minus, sizes, x, rows, outputRelu)) !== ref) continue;
        checked++;
        net.setParams(plus);
        const fp = objective(net, x, rows, R);
        net.setParams(minus);
        const fm = objective(net, x, rows, R);
        const num = (fp - fm) / (2 * eps);
        assert.ok(Math.abs(num - grads[k][j]) <= 2e-2 * Math.max(1e-1, Math.abs(num)),
          `param ${k}[${j}]: ${grads[k][j]} vs numeric ${num}`);
      }
    }
    net.setParams(p0);
    assert.ok(checked > 0.7 * total, `most coordinates away from ReLU kinks (${checked}/${total})`);
    // Gradients accumulate over two backward passes until zeroGrad/adamStep.
    net.zeroGrad();
    net.forward(x, rows, true);
    net.backward(R, rows);
    net.forward(x, rows, true);
    net.backward(R, rows);
    const before = net.getParams();
    net.adamStep(1e6, 0, 0, 1e6);
    const after = net.getParams();
    closeArrays(before[0].map((v, j) => v - after[0][j]), grads[0].map((g) => 2 * g), 1e-4, 1e-3, 'accumulated dW0');
  });
}

test('Mlp: forwardAsync is the eval forward on a libuv thread, over the weights as they were at the call', async () => {
  for (const [sizes, outputRelu] of [[[5, 7, 3], false], [[5, 7, 9, 3], true], [[5, 3], false]] as const) {
    const rows = 6;
    const net = new native.Mlp([...sizes], { dropout: 0.5, inputNoise: 0.3, outputRelu, seed: 3 });
    const x = randomTable(rows * 5, 41, 2);
    const wanted = net.forward(x, rows, false);
    const pending = net.forwardAsync(x, rows);
    net.setParams(net.getParams().map((p) => p.map((v) => v * 2)));
    assert.deepEqual(await pending, wanted, `sizes ${sizes.join('-')}`);
    assert.notDeepEqual(await net.forwardAsync(x, rows), wanted, 'a later call sees the new weights');
  }
  const net = new native.Mlp([5, 3], { dropout: 0, outputRelu: false, seed: 1 });
  assert.equal((await net.forwardAsync(new Float32Array(0), 0)).length, 0);
  assert.throws(() => net.forwardAsync(new Float32Array(7), 2), RangeError);
  assert.throws(() => net.forwardAsync(new Float64Array(10) as unknown as Float32Array, 2), TypeError);
});

test('Mlp: forward matches a TS reference; mse loss and gradient', () => {
  const sizes = [5, 7, 3], rows = 6;
  const net = new native.Mlp(sizes, { dropout: 0.5, outputRelu: false, seed: 3 });
  const x = randomTable(rows * 5, 31, 2);
  const out = net.forward(x, rows, false);
  closeArrays(out, referenceForward(net.getParams(), sizes, x, rows, false).out, 1e-5, 1e-5, 'forward');
  const reluNet = new native.Mlp(sizes, { dropout: 0.5, outputRelu: true, seed: 3 });
  closeArrays(reluNet.forward(x, rows, false), referenceForward(reluNet.getParams(), sizes, x, rows, true).out, 1e-5, 1e-5,
    'forward (outputRelu)');
  assert.deepEqual(net.forward(x, rows, false), out, 'eval forward is deterministic');

  const target = randomTable(rows * 3, 37, 2);
  const weights = Float32Array.from({ length: rows }, (_, r) => 0.5 + r);
  const grad = new Float32Array(rows * 3);
  const loss = native.mse(out, target, weights, rows, 3, grad);
  let ref = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < 3; c++) s += (out[r * 3 + c] - target[r * 3 + c]) ** 2;
    ref += weights[r] * s / 3;
  }
  assert.ok(Math.abs(loss - ref) < 1e-5 * Math.max(1, ref), `mse ${loss} vs ${ref}`);
  const scratch = new Float32Array(rows * 3);
  for (let i = 0; i < out.length; i++) {
    const p = out.slice(), m = out.slice();
    p[i] += 1e-2;
    m[i] -= 1e-2;
    const num = (native.mse(p, target, weights, rows, 3, scratch) - native.mse(m, target, weights, rows, 3, scratch)) / 2e-2;
    assert.ok(Math.abs(num - grad[i]) <= 2e-2 * Math.max(1e-1, Math.abs(num)), `mse grad[${i}]: ${grad[i]} vs ${num}`);
  }
  const unweighted = native.mse(out, target, null, rows, 3, grad);
  let ref1 = 0;
  for (let i = 0; i < out.length; i++) ref1 += (out[i] - target[i]) ** 2 / 3;
  assert.ok(Math.abs(unweighted - ref1) < 1e-5 * Math.max(1, ref1));
});

test('Mlp: one and two Adam steps match a TS reference', () => {
  const sizes = [4, 6, 3], rows = 5;
  const opts = { dropout: 0, outputRelu: true, seed: 8 };
  const net = new native.Mlp(sizes, opts);
  const probe = new native.Mlp(sizes, opts);
  const lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let p = net.getParams().map((a) => Float64Array.from(a));
  const m = p.map((a) => new Float64Array(a.length)), v = p.map((a) => new Float64Array(a.length));
  for (let t = 1; t <= 2; t++) {
    const x = randomTable(rows * 4, 40 + t, 2), gOut = randomTable(rows * 3, 50 + t, 2);
    probe.setParams(net.getParams());
    const { grads } = gradients(probe, x, rows, gOut);
    net.forward(x, rows, true);
    net.backward(gOut, rows);
    net.adamStep(lr, b1, b2, eps);
    p = p.map((pk, k) => pk.map((pj, j) => {
      const g = grads[k][j];
      m[k][j] = b1 * m[k][j] + (1 - b1) * g;
      v[k][j] = b2 * v[k][j] + (1 - b2) * g * g;
      return pj - lr * (m[k][j] / (1 - b1 ** t)) / (Math.sqrt(v[k][j] / (1 - b2 ** t)) + eps);
    }));
    const got = net.getParams();
    for (let k = 0; k < p.length; k++) closeArrays(got[k], p[k], 2e-5, 1e-4, `step ${t} param ${k}`);
  }
});

test('adamStep: three steps on one array match a TS reference (large enough to run in parallel parts)', () => {
  const n = 70000;
  const lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const params = randomTable(n, 61, 1);
  const m = new Float32Array(n), v = new Float32Array(n);
  const ref = Float64Array.from(params), rm = new Float64Array(n), rv = new Float64Array(n);
  for (let t = 1; t <= 3; t++) {
    const grad = randomTable(n, 70 + t, 2);
    native.adamStep(params, grad, m, v, t, lr, b1, b2, eps);
    for (let j = 0; j < n; j++) {
      rm[j] = b1 * rm[j] + (1 - b1) * grad[j];
      rv[j] = b2 * rv[j] + (1 - b2) * grad[j] * grad[j];
      ref[j] -= lr * (rm[j] / (1 - b1 ** t)) / (Math.sqrt(rv[j] / (1 - b2 ** t)) + eps);
    }
  }
  closeArrays(params, ref, 1e-5, 1e-4, 'params after 3 steps');
  assert.throws(() => native.adamStep(params, new Float32Array(3), m, v, 1, lr, b1, b2, eps), RangeError);
  assert.throws(() => native.adamStep(params, params, m, v, 0, lr, b1, b2, eps), /step must be >= 1/);
});

test('pairDifferences: rows of a, and of a beside b read modulo its rows, equal a TS reference', () => {
  const aCols = 3, bCols = 5, bRows = 4;
  const a = randomTable(2 * bRows * aCols, 81, 1);
  const b = randomTable(bRows * bCols, 82, 1);
  const first = Int32Array.of(0, 7, 3, 5), second = Int32Array.of(6, 1, 3, 2);
  const out = new Float32Array(4 * (aCols + bCols));
  native.pairDifferences(first, second, 4, a, aCols, b, bCols, bRows, null, 1, out);
  const expected: number[] = [];
  first.forEach((f, p) => {
    const s = second[p];
    for (let c = 0; c < aCols; c++) expected.push(a[f * aCols + c] - a[s * aCols + c]);
    for (let c = 0; c < bCols; c++) expected.push(b[(f % bRows) * bCols + c] - b[(s % bRows) * bCols + c]);
  });
  assert.deepEqual(Array.from(out), expected.map(Math.fround));
  const headOnly = new Float32Array(2 * aCols);
  native.pairDifferences(first, second, 2, a, aCols, null, 0, 1, null, 1, headOnly);
  assert.deepEqual(Array.from(headOnly), [...expected.slice(0, aCols), ...expected.slice(aCols + bCols, 2 * aCols + bCols)].map(Math.fround));
  assert.throws(() => native.pairDifferences(Int32Array.of(8), Int32Array.of(0), 1, a, aCols, b, bCols, bRows, null, 1, out), /pair 0 names a row outside the 8/);
  assert.throws(() => native.pairDifferences(first, second, 4, a, aCols, b, bCols, bRows, null, 1, new Float32Array(8)), RangeError);
});

test('Mlp: dropout zeroes about p of hidden units in training only; setParams(getParams()) round-trips', () => {
  const width = 64, rows = 50, p = 0.3;
  const net = new native.Mlp([4, width, width], { dropout: p, outputRelu: false, seed: 1 });
  // Hidden = ReLU(0·x + 1) = 1 before dropout; output = identity of hidden.
  const W1 = new Float32Array(width * width);
  for (let i = 0; i < width; i++) W1[i * width + i] = 1;
  net.setParams([new Float32Array(4 * width), new Float32Array(width).fill(1), W1, new Float32Array(width)]);
  const x = randomTable(rows * 4, 3, 1);
  const out = net.forward(x, rows, true);
  let zeros = 0;
  for (const v of out) {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6, `kept units are scaled by 1/(1−p): ${v}`);
  }
  const frac = zeros / out.length;
  assert.ok(Math.abs(frac - p) < 0.04, `dropped fraction ≈ ${p}: ${frac}`);
  const masked = net.forward(x, rows, true);
  assert.notDeepEqual(masked, out, 'a new mask per train forward');
  const evalOut = net.forward(x, rows, false);
  assert.ok(evalOut.every((v) => v === 1), 'no dropout with train=false');
  // Backward through the last train forward's mask: d/dx is 0 (W0 = 0), d/db0 counts kept units scaled.
  const gIn = net.backward(new Float32Array(rows * width).fill(1), rows);
  assert.equal(gIn.length, rows * 4);
  assert.ok(gIn.every((v) => v === 0), 'd/dx = W0 · (…) = 0');
  const expectedDb0 = Array.from({ length: width }, (_, j) => {
    let kept = 0;
    for (let r = 0; r < rows; r++) if (masked[r * width + j] !== 0) kept++;
    return kept / (1 - p);
  });

  const other = new native.Mlp([4, width, width], { dropout: p, outputRelu: false, seed: 99 });
  other.setParams(net.getParams());
  assert.deepEqual(other.getParams(), net.getParams());
  assert.deepEqual(other.forward(x, rows, false), evalOut);
  assert.throws(() => other.setParams(net.getParams().slice(1)), RangeError);
  assert.throws(() => other.backward(new Float32Array(rows * width), rows), /forward/);
  assert.throws(() => net.backward(new Float32Array(rows * width), rows - 1), RangeError);
  // The accumulated d/db0, read through one Adam step: with lr = 1 and a huge eps the step is g/(|g| + eps).
  const eps = 1e6;
  net.adamStep(1, 0.9, 0.999, eps);
  const b0 = net.getParams()[1];
  for (let j = 0; j < width; j++) {
    const g = expectedDb0[j];
    assert.ok(Math.abs((1 - b0[j]) - g / (g + eps)) < 3e-7, `d/db0[${j}]: step ${1 - b0[j]}, expected ${g / (g + eps)} (g = ${g})`);
  }
});

test('Mlp: backwardParams accumulates the same parameter gradients as backward, without the input gradient', () => {
  const sizes = [6, 5, 3], rows = 4;
  const a = new native.Mlp(sizes, { dropout: 0, outputRelu: false, seed: 12 });
  const b = new native.Mlp(sizes, { dropout: 0, outputRelu: false, seed: 12 });
  const x = randomTable(rows * 6, 61, 2), gOut = randomTable(rows * 3, 62, 2);
  a.forward(x, rows, true);
  assert.equal(a.backward(gOut, rows).length, rows * 6);
  b.forward(x, rows, true);
  assert.equal(b.backwardParams(gOut, rows), undefined);
  a.adamStep(1e-2, 0.9, 0.999, 1e-8);
  b.adamStep(1e-2, 0.9, 0.999, 1e-8);
  assert.deepEqual(b.getParams(), a.getParams());
});

test('Mlp: inputNoise adds seeded N(0, sd²) noise to the input of training forwards only', () => {
  const width = 2000, rows = 8, sd = 0.3;
  // Identity network: output = input (no hidden layer, linear output, zero bias).
  const identity = () => {
    const net = new native.Mlp([width, width], { dropout: 0, inputNoise: sd, outputRelu: false, seed: 5 });
    const W = new Float32Array(width * width);
    for (let i = 0; i < width; i++) W[i * width + i] = 1;
    net.setParams([W, new Float32Array(width)]);
    return net;
  };
  const net = identity();
  const x = randomTable(rows * width, 71, 1);
  assert.deepEqual(net.forward(x, rows, false), x, 'no noise in evaluation');
  const noisy = net.forward(x, rows, true);
  let sum = 0, sq = 0;
  for (let i = 0; i < x.length; i++) {
    const d = noisy[i] - x[i];
    sum += d;
    sq += d * d;
  }
  const mean = sum / x.length;
  assert.ok(Math.abs(mean) < 0.01, `noise mean ≈ 0: ${mean}`);
  assert.ok(Math.abs(Math.sqrt(sq / x.length - mean * mean) - sd) < 0.01, 'noise sd ≈ inputNoise');
  assert.notDeepEqual(net.forward(x, rows, true), noisy, 'fresh noise per training forward');
  assert.deepEqual(identity().forward(x, rows, true), noisy, 'same seed, same noise');
  assert.throws(() => new native.Mlp([3, 2], { dropout: 0, inputNoise: -1, outputRelu: false, seed: 1 }), RangeError);
});

test('Mlp: seeded initialisation is reproducible and He-uniform bounded', () => {
  const a = new native.Mlp([50, 20, 10], { dropout: 0.1, outputRelu: true, seed: 4 });
  const b = new native.Mlp([50, 20, 10], { dropout: 0.1, outputRelu: true, seed: 4 });
  const c = new native.Mlp([50, 20, 10], { dropout: 0.1, outputRelu: true, seed: 5 });
  assert.deepEqual(a.getParams(), b.getParams());
  assert.notDeepEqual(a.getParams(), c.getParams());
  const [W0, b0] = a.getParams();
  assert.equal(W0.length, 50 * 20);
  assert.ok(W0.every((w) => Math.abs(w) <= Math.sqrt(6 / 50)));
  assert.ok(b0.every((v) => v === 0));
  assert.throws(() => new native.Mlp([5], { dropout: 0, outputRelu: false, seed: 1 }), RangeError);
  assert.throws(() => new native.Mlp([5, 3], { dropout: 1, outputRelu: false, seed: 1 }), RangeError);
});

// ---------- ranking ----------

/** Small integer embeddings (exact float dot products, many ties) and sorted unique exclusion lists. */
/** V [rows × dim] in searchTopK's layout: panels of 16 rows, dimension-major, the last one zero-padded. */
function packPanels(V: Float32Array, dim: number): Float32Array {
  const rows = V.length / dim;
  const P = new Float32Array(Math.ceil(rows / 16) * 16 * dim);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) P[(Math.floor(r / 16) * dim + d) * 16 + (r % 16)] = V[r * dim + d];
  return P;
}

function rankingCase(seed: number) {
  const r = rng(seed);
  const nUsers = 9, nItems = 30, dim = 3;
  const U = Float32Array.from({ length: nUsers * dim }, () => Math.floor(r() * 3) - 1);
  const V = Float32Array.from({ length: nItems * dim }, () => Math.floor(r() * 3) - 1);
  const lists: number[][] = [];
  for (let u = 0; u < nUsers; u++) {
    const s = new Set<number>();
    const m = u === nUsers - 1 ? nItems - 1 : Math.floor(r() * 8); // the last user leaves one candidate at most
    while (s.size < m) s.add(Math.floor(r() * nItems));
    lists.push([...s].sort((a, b) => a - b));
  }
  const indptr = new Int32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) indptr[u + 1] = indptr[u] + lists[u].length;
  return { nUsers, nItems, dim, U, V, lists, indptr, indices: Int32Array.from(lists.flat()), r };
}

const dot = (U: Float32Array, V: Float32Array, dim: number, u: number, i: number): number => {
  let s = 0;
  for (let d = 0; d < dim; d++) s += U[u * dim + d] * V[i * dim + d];
  return s;
};

test('rankTestPairs: AUC equals a brute-force count with exclusions and ties (several GEMM blocks), lists equal topK', async () => {
  const c = rankingCase(77);
  const nPairs = 1300;
  const users = Int32Array.from({ length: nPairs }, () => Math.floor(c.r() * c.nUsers));
  const items = Int32Array.from({ length: nPairs }, (_, j) =>
    j % 7 === 0 && c.lists[users[j]].length > 0 ? c.lists[users[j]][0] : Math.floor(c.r() * c.nItems));
  const { auc, lists } = await native.rankTestPairs(c.U, c.V, c.dim, users, items, c.indptr, c.indices, 7, 2);
  assert.ok(auc instanceof Float64Array);
  assert.deepEqual(lists, native.topK(c.U, c.V, c.dim, users, 7, c.indptr, c.indices).items);
  assert.equal(auc.length, nPairs);
  let sawTie = false;
  for (let j = 0; j < nPairs; j++) {
    const u = users[j], t = items[j], st = dot(c.U, c.V, c.dim, u, t);
    const excluded = new Set(c.lists[u]);
    let below = 0, cands = 0;
    for (let i = 0; i < c.nItems; i++) {
      if (i === t || excluded.has(i)) continue;
      cands++;
      const s = dot(c.U, c.V, c.dim, u, i);
      if (s < st) below += 1;
      else if (s === st) { below += 0.5; sawTie = true; }
    }
    if (cands === 0) assert.ok(Number.isNaN(auc[j]), `pair ${j}: no candidates → NaN`);
    else assert.ok(Math.abs(auc[j] - below / cands) < 1e-12, `pair ${j}: ${auc[j]} vs ${below / cands}`);
  }
  assert.ok(sawTie);
  const one = await native.rankTestPairs(c.U, c.V, c.dim, users, items, c.indptr, c.indices, 7, 1);
  assert.deepEqual(one, { auc, lists });
  assert.deepEqual((await native.rankTestPairs(c.U, c.V, c.dim, users, items, c.indptr, c.indices, 0, 1)).auc, auc);
  assert.throws(() => native.rankTestPairs(c.U, c.V, c.dim, users, items.subarray(1), c.indptr, c.indices, 7, 1), RangeError);
  assert.throws(() => native.rankTestPairs(c.U, c.V, c.dim, Int32Array.from([c.nUsers]), Int32Array.from([0]), c.indptr, c.indices, 7, 1), RangeError);
  assert.throws(() => native.rankTestPairs(c.U, c.V, c.dim, users, items, c.indptr, c.indices, -1, 1), RangeError);
});

test('topK equals brute force, skips exclusions, pads with -1/-Infinity', () => {
  const c = rankingCase(78);
  const users = Int32Array.from({ length: c.nUsers }, (_, u) => u);
  for (const k of [1, 5, 40]) {
    const { items, scores } = native.topK(c.U, c.V, c.dim, users, k, c.indptr, c.indices);
    assert.equal(items.length, c.nUsers * k);
    assert.equal(scores.length, c.nUsers * k);
    for (let u = 0; u < c.nUsers; u++) {
      const excluded = new Set(c.lists[u]);
      const ranked = Array.from({ length: c.nItems }, (_, i) => i)
        .filter((i) => !excluded.has(i))
        .map((i) => ({ i, s: dot(c.U, c.V, c.dim, u, i) }))
        .sort((a, b) => b.s - a.s || a.i - b.i);
      for (let q = 0; q < k; q++) {
        const want = ranked[q];
        assert.equal(items[u * k + q], want ? want.i : -1, `user ${u} rank ${q}`);
        assert.equal(scores[u * k + q], want ? want.s : -Infinity);
      }
    }
  }
  const empty = native.topK(c.U, c.V, c.dim, new Int32Array(0), 3, c.indptr, c.indices);
  assert.equal(empty.items.length, 0);
});

test('searchTopK (async) equals a TypeScript reference with exclusions, an allow mask, ties and padding', async () => {
  const c = rankingCase(79); // integer vectors: many ties; 30 rows: one full panel of 16 and a partial one
  const P = packPanels(c.V, c.dim);
  const allow = Uint8Array.from({ length: c.nItems }, () => (c.r() < 0.7 ? 1 : 0));
  const reference = (q: number, k: number, mask: Uint8Array | null, excludedRows = c.lists[q]): number[] => {
    const excluded = new Set(excludedRows);
    return Array.from({ length: c.nItems }, (_, i) => i)
      .filter((i) => !excluded.has(i) && (!mask || mask[i] !== 0))
      .map((i) => ({ i, s: dot(c.U, c.V, c.dim, q, i) }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map((x) => x.i);
  };
  for (const mask of [null, allow]) {
    for (const k of [1, 4, 40]) {
      const { items, scores } = await native.searchTopK(c.U, P, c.dim, c.nItems, k, mask, c.indptr, c.indices);
      assert.equal(items.length, c.nUsers * k);
      for (let q = 0; q < c.nUsers; q++) {
        const want = reference(q, k, mask);
        for (let j = 0; j < k; j++) {
          assert.equal(items[q * k + j], j < want.length ? want[j] : -1, `query ${q} rank ${j}`);
          assert.equal(scores[q * k + j], j < want.length ? dot(c.U, c.V, c.dim, q, want[j]) : -Infinity);
        }
      }
    }
  }
  const one = await native.searchTopK(c.U.subarray(0, c.dim), P, c.dim, c.nItems, 3, null, Int32Array.of(0, 0), new Int32Array(0));
  assert.deepEqual([...one.items], reference(0, 3, null, []));
  // 1,300 queries: several score blocks
  const many = Float32Array.from({ length: 1300 * c.dim }, (_, j) => c.U[j % (c.nUsers * c.dim)]);
  const blocks = await native.searchTopK(many, P, c.dim, c.nItems, 2, allow, new Int32Array(1301), new Int32Array(0));
  for (let q = 0; q < 1300; q += 97) assert.deepEqual([...blocks.items.subarray(q * 2, q * 2 + 2)], reference(q % c.nUsers, 2, allow, []));
  const noRows = await native.searchTopK(c.U.subarray(0, c.dim), new Float32Array(0), c.dim, 0, 2, null, Int32Array.of(0, 0), new Int32Array(0));
  assert.deepEqual([...noRows.items], [-1, -1]);
  const bad = (f: () => unknown, type: typeof RangeError | typeof TypeError) => assert.throws(f, type);
  bad(() => native.searchTopK(c.U, P, c.dim, c.nItems, 3, allow.subarray(1), c.indptr, c.indices), RangeError);
  bad(() => native.searchTopK(c.U, P, c.dim, c.nItems, 3, null, c.indptr.subarray(1), c.indices), RangeError);
  bad(() => native.searchTopK(c.U.subarray(1), P, c.dim, c.nItems, 3, null, c.indptr, c.indices), RangeError);
  bad(() => native.searchTopK(c.U, P, c.dim, c.nItems, -1, null, c.indptr, c.indices), RangeError);
  bad(() => native.searchTopK(c.U, P, c.dim, c.nItems, 3, null, c.indptr, Int32Array.from(c.indices, () => c.nItems)), RangeError);
  bad(() => native.searchTopK(c.U, P, c.dim, c.nItems, 3, new Float32Array(c.nItems) as unknown as Uint8Array, c.indptr, c.indices), TypeError);
  bad(() => native.searchTopK(c.U, P.subarray(16), c.dim, c.nItems, 3, null, c.indptr, c.indices), RangeError); // panels too short
  bad(() => native.searchTopK(c.U, P, c.dim, -1, 3, null, c.indptr, c.indices), RangeError);
  // A prefix of the rows: rows past `rows` (here the partial panel's) are never returned.
  const prefix = await native.searchTopK(c.U, P, c.dim, 20, 40, null, c.indptr, Int32Array.from(c.indices, (i) => i % 20));
  assert.ok([...prefix.items].every((i) => i < 20));
});

test('hugeBuffer: zero-filled, writable, the size asked, bad sizes refused; large arrays zeroed above and below 64 MiB', async () => {
  const { largeFloat32Array, largeBuffer } = await import('../src/data/memory.js');
  for (const bytes of [1, 4096, (2 << 20) + 12]) {
    const buffer = native.hugeBuffer(bytes);
    assert.equal(buffer.byteLength, bytes);
    const view = new Uint8Array(buffer);
    assert.ok(view.every((b) => b === 0));
    view.fill(7);
    assert.equal(view[bytes - 1], 7);
  }
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => native.hugeBuffer(bad), TypeError);
  assert.throws(() => native.hugeBuffer('8' as unknown as number), TypeError);
  const large = largeFloat32Array(17 << 20); // 68 MiB
  assert.equal(large.length, 17 << 20);
  assert.equal(large[large.length - 1], 0);
  large[large.length - 1] = 1.5;
  assert.equal(large[large.length - 1], 1.5);
  assert.equal(largeFloat32Array(3).length, 3);
  assert.equal(largeBuffer(5).length, 5);
});
