// The paper's analyses of the embeddings (§5): PCA and t-SNE projections (Figure 2), linear
// relations X_p1 − X_u1 + X_u2 (precision@5), and the distribution of cosine similarities between
// random product pairs with its excess kurtosis (Figure 4). Every function returns plain records
// (points, histograms, numbers) for reports and figures; nothing prints.
import { native } from '../native.js';
import type { Features, Matrix, Split } from '../data/types.js';
import { Rng } from '../data/random.js';
import { gatherRows, normalizeRows } from '../model/matrix.js';
import { seenLists } from '../core/factors.js';

/** A projected product: its index, a group label (category, user…) and 2-D coordinates. */
export interface ProjectedPoint {
  item: number;
  x: number;
  y: number;
  group: string;
  imageUrl: string;
}

// ---------------------------------------------------------------------------------------------
// PCA (Figure 2a)

export interface PcaResult {
  /** Principal axes, unit length, [components × cols]. */
  axes: Matrix;
  /** Variance along each axis, descending. */
  variances: number[];
  /** Fraction of the total variance each axis explains. */
  explained: number[];
  /** Centred data projected on the axes, [rows × components]. */
  scores: Matrix;
}

/**
 * PCA by power iteration with deflation on the covariance matrix (cols × cols, float64): enough for
 * the few leading axes of ≈100-d embeddings. Deterministic for the seed (start vectors).
 */
export function pca(data: Matrix, components = 2, seed = 1, iterations = 500): PcaResult {
  const { rows: n, cols: d } = data;
  if (n < 2) throw new Error(`pca: need at least 2 rows, got ${n}`);
  if (!(components >= 1 && components <= d)) throw new Error(`pca: components must be in [1, ${d}], got ${components}`);
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += data.data[r * d + c] / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) row[c] = data.data[r * d + c] - mean[c];
    for (let a = 0; a < d; a++) {
      const va = row[a] / (n - 1);
      if (va === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += va * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  let total = 0;
  for (let a = 0; a < d; a++) total += cov[a * d + a];

  const rng = new Rng(seed);
  const axes = new Float32Array(components * d);
  const variances: number[] = [];
  const v = new Float64Array(d);
  const w = new Float64Array(d);
  for (let k = 0; k < components; k++) {
    for (let c = 0; c < d; c++) v[c] = rng.normal();
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      normalize(v);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b] * v[b];
        w[a] = s;
      }
      const next = dot(v, w);
      v.set(w);
      if (it > 10 && Math.abs(next - lambda) <= 1e-12 * Math.max(1, Math.abs(next))) {
        lambda = next;
        break;
      }
      lambda = next;
    }
    normalize(v);
    // Sign convention: the largest-magnitude coordinate is positive (stable output across runs).
    let big = 0;
    for (let c = 1; c < d; c++) if (Math.abs(v[c]) > Math.abs(v[big])) big = c;
    if (v[big] < 0) for (let c = 0; c < d; c++) v[c] = -v[c];
    for (let c = 0; c < d; c++) axes[k * d + c] = v[c];
    variances.push(Math.max(lambda, 0));
    // Deflate: C ← C − λ v vᵀ.
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] -= lambda * v[a] * v[b];
  }
  const scores = new Float32Array(n * components);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < components; k++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (data.data[r * d + c] - mean[c]) * axes[k * d + c];
      scores[r * components + k] = s;
    }
  }
  return {
    axes: { data: axes, rows: components, cols: d },
    variances,
    explained: variances.map((x) => (total > 0 ? x / total : 0)),
    scores: { data: scores, rows: n, cols: components },
  };
}

/** Figure 2a: `count` random products' embeddings projected on their first two principal axes, grouped by category. */
export function pcaProducts(items: Matrix, split: Split, count = 200, seed = 1): { points: ProjectedPoint[]; explained: number[] } {
  const rng = new Rng(seed);
  const chosen = Array.from(rng.permutation(items.rows).subarray(0, Math.min(count, items.rows)));
  const { scores, explained } = pca({ data: gatherRows(items, chosen), rows: chosen.length, cols: items.cols }, 2, seed);
  const points = chosen.map((item, r) => ({
    item,
    x: scores.data[2 * r],
    y: scores.data[2 * r + 1],
    group: split.items[item]?.category ?? '',
    imageUrl: split.items[item]?.imageUrl ?? '',
  }));
  return { points, explained };
}

// ---------------------------------------------------------------------------------------------
// t-SNE (Figure 2b)

export interface TsneOptions {
  perplexity: number;
  iterations: number;
  /** Step size; 'auto' = max(n / earlyExaggeration / 4, 50), as scikit-learn (200 overshoots on small n). */
  learningRate: number | 'auto';
  /** P is multiplied by this for the first `exaggerationIterations` iterations. */
  earlyExaggeration: number;
  exaggerationIterations: number;
  seed: number;
}

export const defaultTsneOptions: TsneOptions = {
  perplexity: 30, iterations: 1000, learningRate: 'auto', earlyExaggeration: 12, exaggerationIterations: 250, seed: 1,
};

export interface TsneResult {
  /** [rows × 2] embedding. */
  points: Matrix;
  /** Perplexity actually used: min(requested, (rows − 1) / 3), as a perplexity needs that many neighbours. */
  perplexity: number;
  /** KL(P || Q) at the end. */
  kl: number;
}

/**
 * Exact t-SNE (van der Maaten & Hinton 2008): Gaussian affinities calibrated to the perplexity by
 * bisection, symmetrised; Student-t output kernel; gradient descent with momentum (0.5, then 0.8),
 * per-coordinate gains and early exaggeration. O(n²) time and memory (P is stored as float32), meant
 * for the few hundred products of a figure. Squared distances come from blocked GEMMs.
 */
export function tsne(data: Matrix, options: Partial<TsneOptions> = {}): TsneResult {
  const o = { ...defaultTsneOptions, ...options };
  const n = data.rows;
  if (n < 2) throw new Error(`tsne: need at least 2 rows, got ${n}`);
  const perplexity = Math.max(1, Math.min(o.perplexity, (n - 1) / 3));
  const P = affinities(data, perplexity);
  const learningRate = o.learningRate === 'auto' ? Math.max(n / o.earlyExaggeration / 4, 50) : o.learningRate;
  const rng = new Rng(o.seed);
  const Y = new Float64Array(2 * n);
  for (let k = 0; k < Y.length; k++) Y[k] = 1e-4 * rng.normal();
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  let kl = NaN;
  for (let it = 0; it < o.iterations; it++) {
    const exaggeration = it < o.exaggerationIterations ? o.earlyExaggeration : 1;
    const last = it === o.iterations - 1;
    kl = gradient(P, Y, n, exaggeration, grad, last);
    const momentum = it < o.exaggerationIterations ? 0.5 : 0.8;
    for (let k = 0; k < 2 * n; k++) {
      gains[k] = Math.sign(grad[k]) !== Math.sign(update[k]) ? gains[k] + 0.2 : Math.max(gains[k] * 0.8, 0.01);
      update[k] = momentum * update[k] - learningRate * gains[k] * grad[k];
      Y[k] += update[k];
    }
    // Keep the embedding centred.
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += Y[2 * i] / n;
      my += Y[2 * i + 1] / n;
    }
    for (let i = 0; i < n; i++) {
      Y[2 * i] -= mx;
      Y[2 * i + 1] -= my;
    }
  }
  return { points: { data: Float32Array.from(Y), rows: n, cols: 2 }, perplexity, kl };
}

/** Symmetric joint probabilities p_ij = (p_j|i + p_i|j) / 2n, row conditionals fitted to the perplexity. */
function affinities(data: Matrix, perplexity: number): Float32Array {
  const { rows: n, cols: d } = data;
  const P = new Float32Array(n * n);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) norms[i] += data.data[i * d + c] ** 2;
  const target = Math.log(perplexity);
  const block = 256;
  const gram = new Float32Array(block * n);
  const dist = new Float64Array(n);
  const p = new Float64Array(n);
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    native.sgemm(false, true, rows, n, d, 1, data.data.subarray(start * d), d, data.data, d, 0, gram, n);
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      for (let j = 0; j < n; j++) dist[j] = Math.max(norms[i] + norms[j] - 2 * gram[r * n + j], 0);
      dist[i] = Infinity;
      // Bisection on β = 1/2σ² so that the entropy of p_·|i is log(perplexity).
      let beta = 1;
      let lo = 0;
      let hi = Infinity;
      let min = Infinity;
      for (let j = 0; j < n; j++) if (j !== i && dist[j] < min) min = dist[j];
      for (let step = 0; step < 100; step++) {
        let sum = 0;
        let weighted = 0;
        for (let j = 0; j < n; j++) {
          const e = j === i ? 0 : Math.exp(-beta * (dist[j] - min));
          p[j] = e;
          sum += e;
          weighted += e * (dist[j] === Infinity ? 0 : dist[j] - min);
        }
        const entropy = Math.log(sum) + (beta * weighted) / sum;
        for (let j = 0; j < n; j++) p[j] /= sum;
        if (Math.abs(entropy - target) < 1e-5) break;
        if (entropy > target) {
          lo = beta;
          beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
        } else {
          hi = beta;
          beta = (beta + lo) / 2;
        }
      }
      for (let j = 0; j < n; j++) P[i * n + j] = p[j];
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max((P[i * n + j] + P[j * n + i]) / (2 * n), 1e-12);
      P[i * n + j] = v;
      P[j * n + i] = v;
    }
    P[i * n + i] = 0;
  }
  return P;
}

/** Writes dKL/dY into grad; returns KL(P||Q) when asked (else NaN). One pass over pairs i < j. */
function gradient(P: Float32Array, Y: Float64Array, n: number, exaggeration: number, grad: Float64Array, withKl: boolean): number {
  const attract = new Float64Array(2 * n);
  const repulse = new Float64Array(2 * n);
  let Z = 0;
  for (let i = 0; i < n; i++) {
    const xi = Y[2 * i];
    const yi = Y[2 * i + 1];
    let ax = 0;
    let ay = 0;
    let rx = 0;
    let ry = 0;
    const rowP = i * n;
    for (let j = i + 1; j < n; j++) {
      const dx = xi - Y[2 * j];
      const dy = yi - Y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy);
      Z += 2 * q;
      const pq = P[rowP + j] * q;
      const qq = q * q;
      ax += pq * dx;
      ay += pq * dy;
      rx += qq * dx;
      ry += qq * dy;
      attract[2 * j] -= pq * dx;
      attract[2 * j + 1] -= pq * dy;
      repulse[2 * j] -= qq * dx;
      repulse[2 * j + 1] -= qq * dy;
    }
    attract[2 * i] += ax;
    attract[2 * i + 1] += ay;
    repulse[2 * i] += rx;
    repulse[2 * i + 1] += ry;
  }
  for (let k = 0; k < 2 * n; k++) grad[k] = 4 * (exaggeration * attract[k] - repulse[k] / Z);
  if (!withKl) return NaN;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const pij = P[i * n + j];
      const dx = Y[2 * i] - Y[2 * j];
      const dy = Y[2 * i + 1] - Y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy) / Z;
      kl += 2 * pij * Math.log(pij / Math.max(q, 1e-300));
    }
  }
  return kl;
}

/**
 * Figure 2b: the training products of `users` random users (with at least 2 products), t-SNE'd.
 * A product bought by several of them is labelled with one of its buyers chosen at random (the
 * paper picks the frame colour randomly) and flagged `shared`.
 */
export function tsneUserProducts(items: Matrix, split: Split, users = 4, options: Partial<TsneOptions> = {}):
{ points: Array<ProjectedPoint & { shared: boolean }>; users: number[]; perplexity: number } {
  const seed = options.seed ?? defaultTsneOptions.seed;
  const rng = new Rng(seed);
  const { seenIndptr, seenIndices } = seenLists(split.train, split.userIds.length);
  const eligible: number[] = [];
  for (let u = 0; u < split.userIds.length; u++) if (seenIndptr[u + 1] - seenIndptr[u] >= 2) eligible.push(u);
  const chosen = Array.from(rng.permutation(eligible.length).subarray(0, Math.min(users, eligible.length)), (k) => eligible[k]);
  const buyers = new Map<number, number[]>();
  for (const u of chosen) {
    for (let e = seenIndptr[u]; e < seenIndptr[u + 1]; e++) {
      const item = seenIndices[e];
      if (!buyers.has(item)) buyers.set(item, []);
      buyers.get(item)!.push(u);
    }
  }
  const products = Array.from(buyers.keys());
  const result = tsne({ data: gatherRows(items, products), rows: products.length, cols: items.cols }, options);
  const points = products.map((item, r) => {
    const who = buyers.get(item)!;
    const u = who.length === 1 ? who[0] : who[rng.int(who.length)];
    return {
      item, x: result.points.data[2 * r], y: result.points.data[2 * r + 1], group: split.userIds[u],
      imageUrl: split.items[item]?.imageUrl ?? '', shared: who.length > 1,
    };
  });
  return { points, users: chosen, perplexity: result.perplexity };
}

// ---------------------------------------------------------------------------------------------
// Similarity distribution (Figure 4)

export interface Histogram {
  /** Bin edges, bins + 1 of them. */
  edges: number[];
  counts: number[];
  /** counts / (total · bin width): integrates to 1. */
  density: number[];
}

export interface Moments {
  count: number;
  mean: number;
  sd: number;
  /** Excess kurtosis m4/m2² − 3 (population moments, as scipy.stats.kurtosis with defaults). */
  excessKurtosis: number;
}

export function moments(values: ArrayLike<number>): Moments {
  const n = values.length;
  if (n === 0) return { count: 0, mean: NaN, sd: NaN, excessKurtosis: NaN };
  let mean = 0;
  for (let k = 0; k < n; k++) mean += values[k];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  for (let k = 0; k < n; k++) {
    const d2 = (values[k] - mean) ** 2;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  return { count: n, mean, sd: Math.sqrt(m2), excessKurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : NaN };
}

/** Equal-width histogram over [lo, hi]; values outside are clamped into the end bins. */
export function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): Histogram {
  if (!(hi > lo) || !Number.isInteger(bins) || bins < 1) throw new Error(`histogram: need hi > lo and bins ≥ 1, got [${lo}, ${hi}], ${bins}`);
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let k = 0; k < values.length; k++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor((values[k] - lo) / width)));
    counts[b]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, b) => lo + b * width);
  const total = values.length || 1;
  return { edges, counts, density: counts.map((c) => c / (total * width)) };
}

/** `count` random pairs of distinct rows drawn from `pool` (all rows when omitted). */
export function randomPairs(rows: number, count: number, seed: number, pool?: ArrayLike<number>): { first: Int32Array; second: Int32Array } {
  const rng = new Rng(seed);
  const size = pool ? pool.length : rows;
  if (size < 2) throw new Error(`randomPairs: need at least 2 rows, got ${size}`);
  const first = new Int32Array(count);
  const second = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    let a = rng.int(size);
    let b = rng.int(size - 1);
    if (b >= a) b++;
    if (pool) {
      a = pool[a];
      b = pool[b];
    }
    first[k] = a;
    second[k] = b;
  }
  return { first, second };
}

export interface SimilarityDistribution {
  name: string;
  moments: Moments;
  histogram: Histogram;
}

/** Cosine similarities of the given row pairs, their moments and a histogram over [-1, 1]. */
export function cosineDistribution(name: string, vectors: Features, pairs: { first: Int32Array; second: Int32Array }, bins = 50): SimilarityDistribution {
  const unit = normalizeRows(vectors);
  const { cols } = unit;
  const values = new Float64Array(pairs.first.length);
  for (let k = 0; k < values.length; k++) {
    const a = pairs.first[k] * cols;
    const b = pairs.second[k] * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += unit.data[a + c] * unit.data[b + c];
    values[k] = s;
  }
  return { name, moments: moments(values), histogram: histogram(values, bins, -1, 1) };
}

/**
 * Figure 4: cosine similarity between the same `count` random pairs of warm products, for the VASG
 * embeddings and for the raw image features (paper, Men: excess kurtosis 0.87 vs 3.67).
 */
export function similarityDistributions(items: Matrix, split: Split, count = 100000, seed = 1, bins = 50): { vasg: SimilarityDistribution; image: SimilarityDistribution } {
  const warm: number[] = [];
  for (let i = 0; i < split.warm.length; i++) if (split.warm[i]) warm.push(i);
  const pairs = randomPairs(items.rows, count, seed, warm);
  return { vasg: cosineDistribution('VASG', items, pairs, bins), image: cosineDistribution('image features', split.features, pairs, bins) };
}

// ---------------------------------------------------------------------------------------------
// Linear relations (§5, Figure 3)

export interface LinearRelationResult {
  samples: number;
  /**
   * precision@5: the fraction of samples (u1, p1, u2) for which at least one of the 5 products
   * nearest (cosine) to the query X_p1 − X_u1 + X_u2, p1 itself excluded, is a product u2 bought in
   * training. Candidates are all products (warm and cold).
   */
  precisionAt5: number;
  /** The same with X_u2 alone as the query (does the analogy add anything to the user vector?). */
  userOnlyAt5: number;
  /** The same with X_p1 alone as the query (the product's neighbours, ignoring u2). */
  productOnlyAt5: number;
  /** Mean fraction of the 5 that u2 bought, for the analogy query (a strict precision). */
  meanHitsAt5: number;
}

/**
 * Samples `samples` triples: u1 uniform among users with training products, p1 uniform in u1's
 * training products, u2 uniform among the other users with training products; scores the three
 * queries as documented on LinearRelationResult. Deterministic for the seed.
 */
export function linearRelations(users: Matrix, items: Matrix, split: Split, samples = 10000, seed = 1): LinearRelationResult {
  const k = 5;
  if (users.cols !== items.cols) throw new Error(`linearRelations: user and product vectors differ in width (${users.cols} vs ${items.cols})`);
  const D = users.cols;
  const rng = new Rng(seed);
  const { seenIndptr, seenIndices } = seenLists(split.train, users.rows);
  const active: number[] = [];
  for (let u = 0; u < users.rows; u++) if (seenIndptr[u + 1] > seenIndptr[u]) active.push(u);
  if (active.length < 2) throw new Error('linearRelations: need at least 2 users with training products');
  const u1s = new Int32Array(samples);
  const p1s = new Int32Array(samples);
  const u2s = new Int32Array(samples);
  for (let s = 0; s < samples; s++) {
    const a = rng.int(active.length);
    let b = rng.int(active.length - 1);
    if (b >= a) b++;
    const u1 = active[a];
    u1s[s] = u1;
    u2s[s] = active[b];
    p1s[s] = seenIndices[seenIndptr[u1] + rng.int(seenIndptr[u1 + 1] - seenIndptr[u1])];
  }
  const unitItems = normalizeRows(items);
  const exclude = { indptr: Int32Array.from({ length: samples + 1 }, (_, s) => s), indices: p1s };
  const score = (queries: Float32Array) => {
    const unit = normalizeRows({ data: queries, rows: samples, cols: D });
    const top = native.topK(unit.data, unitItems.data, D, Int32Array.from({ length: samples }, (_, s) => s), k, exclude.indptr, exclude.indices);
    let anyHit = 0;
    let hits = 0;
    for (let s = 0; s < samples; s++) {
      const u2 = u2s[s];
      const bought = seenIndices.subarray(seenIndptr[u2], seenIndptr[u2 + 1]);
      let h = 0;
      for (let j = 0; j < k; j++) if (top.items[s * k + j] >= 0 && bought.includes(top.items[s * k + j])) h++;
      hits += h / k;
      if (h > 0) anyHit++;
    }
    return { anyHit: anyHit / samples, meanHits: hits / samples };
  };
  const analogy = new Float32Array(samples * D);
  for (let s = 0; s < samples; s++) {
    for (let c = 0; c < D; c++) {
      analogy[s * D + c] = items.data[p1s[s] * D + c] - users.data[u1s[s] * D + c] + users.data[u2s[s] * D + c];
    }
  }
  const withAnalogy = score(analogy);
  return {
    samples,
    precisionAt5: withAnalogy.anyHit,
    userOnlyAt5: score(gatherRows(users, u2s)).anyHit,
    productOnlyAt5: score(gatherRows(items, p1s)).anyHit,
    meanHitsAt5: withAnalogy.meanHits,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

function normalize(v: Float64Array): void {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let k = 0; k < v.length; k++) v[k] /= norm;
}
