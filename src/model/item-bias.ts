// An item bias carried as one extra column of the scoring factors: users get a constant 1, products their bias,
// so score(u, i) = s(u, i) + b_i and exact/HNSW search and the evaluation rank with it unchanged. Cosine scoring
// removes popularity, which is most of what BPR-MF's top-20 wins with; the bias puts it back, alike for warm
// products (from their training purchases) and cold ones (the popularity of a quantile of the warm products, plus
// an offset that puts encoder outputs on the learned vectors' score scale).
import type { Interactions, Matrix } from '../data/types.js';

export interface ItemBiasWeights {
  /** β: bias = β·ln(1 + purchases) for warm products (cosine units). */
  popularityWeight: number;
  /** Cold products count as having the purchases of the warm product at this quantile (0 = the least bought). */
  coldQuantile: number;
  /** Added to every cold product's bias (cosine units). */
  coldOffset: number;
}

/** Training interactions per product. */
export function itemPopularity(train: Interactions, nItems: number): Float64Array {
  const counts = new Float64Array(nItems);
  for (const i of train.items) counts[i]++;
  return counts;
}

/** The q-quantile (nearest rank) of the warm products' purchase counts. */
export function warmQuantile(popularity: Float64Array, warm: Uint8Array, q: number): number {
  const counts = Array.from(popularity).filter((_, i) => warm[i] === 1).sort((a, b) => a - b);
  if (counts.length === 0) return 0;
  return counts[Math.min(counts.length - 1, Math.max(0, Math.ceil(q * counts.length) - 1))];
}

/** A cold product's bias: β·ln(1 + n_q) + offset, n_q the purchases of the warm product at quantile q. */
export function coldBias(popularity: Float64Array, warm: Uint8Array, weights: ItemBiasWeights): number {
  return weights.popularityWeight * Math.log1p(warmQuantile(popularity, warm, weights.coldQuantile)) + weights.coldOffset;
}

/** Per-product bias: β·ln(1 + n_i) for warm products; `coldBias` for cold ones. */
export function itemBiases(popularity: Float64Array, warm: Uint8Array, weights: ItemBiasWeights): Float32Array {
  const cold = coldBias(popularity, warm, weights);
  return Float32Array.from(popularity, (n, i) => (warm[i] ? weights.popularityWeight * Math.log1p(n) : cold));
}

/** Scoring factors with the bias column appended: users [x_u, 1], products [x_i, b_i]. */
export function appendBiasColumn(scoring: { users: Matrix; items: Matrix }, biases: Float32Array): { users: Matrix; items: Matrix } {
  return { users: appendColumn(scoring.users, () => 1), items: appendColumn(scoring.items, (i) => biases[i]) };
}

export function withItemBias(scoring: { users: Matrix; items: Matrix }, popularity: Float64Array, warm: Uint8Array,
  weights: ItemBiasWeights): { users: Matrix; items: Matrix } {
  return appendBiasColumn(scoring, itemBiases(popularity, warm, weights));
}

function appendColumn(m: Matrix, value: (row: number) => number): Matrix {
  const cols = m.cols + 1;
  const data = new Float32Array(m.rows * cols);
  for (let r = 0; r < m.rows; r++) {
    data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), r * cols);
    data[r * cols + m.cols] = value(r);
  }
  return { data, rows: m.rows, cols };
}

/**
 * The offset that puts cold products' scores on the warm scale, from training data only: over the training
 * pairs (u, p), the mean of s(u, learned x_p) − s(u, encoded M(f_p)), i.e. how far the encoder's vector of a bought
 * product scores below its learned one for its own buyers. Rows are scoring factors (normalised for cosine).
 */
export function coldScoreOffset(users: Matrix, learned: Matrix, encoded: Matrix, train: Interactions): number {
  const dim = users.cols;
  let sum = 0;
  for (let e = 0; e < train.users.length; e++) {
    const u = train.users[e] * dim;
    const p = train.items[e] * dim;
    for (let d = 0; d < dim; d++) sum += users.data[u + d] * (learned.data[p + d] - encoded.data[p + d]);
  }
  return train.users.length > 0 ? sum / train.users.length : 0;
}
