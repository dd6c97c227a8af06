// An item bias carried as one extra column of the scoring factors: users get a constant 1, products their bias,
// so score(u, i) = s(u, i) + b_i and exact/HNSW search and the evaluation rank with it unchanged. Cosine scoring
// removes popularity, which is most of what BPR-MF's top-20 wins with; the bias puts it back, alike for warm
// products (from their training purchases) and cold ones: by default one bias calibrated so that new products fill
// the share of the users' top-20 lists that they take of the purchases (below), or else the popularity of a quantile
// of the warm products plus an offset.
import type { Interactions, Matrix, Split } from '../data/types.js';
import { native } from '../native.js';
import { seenLists } from '../core/factors.js';
import { gatherRows } from './matrix.js';
import { validationSplit } from '../data/validation.js';
import { ConfigError, InputError } from '../errors.js';

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

// Calibrating the cold bias to an exposure target. A fixed quantile cannot fit every data set: the same bias floods
// a time split's lists (few new products are bought) and hides them on a sparse random one. Instead the cold bias is
// the shift of the cold scores at which new products fill a target share of the users' top-k lists, the target
// being the cold share of test purchases in a validation split carved from the training data (coldShareTarget).

/** Per user (rows of k, best first, −Infinity padded): the best warm ranking scores (bias included, training products excluded) and the best cold scores without bias. */
export interface ListHeads {
  k: number;
  warm: Float32Array;
  cold: Float32Array;
}

/** Cold products in one user's top k (row `row` of the heads) when every cold score gains `shift`: a merge of the two heads. */
export function coldSlots(heads: ListHeads, row: number, shift: number): number {
  const { k, warm, cold } = heads;
  let w = 0;
  let c = 0;
  while (w + c < k) {
    if (cold[row * k + c] + shift > warm[row * k + w]) c++;
    else w++;
  }
  return c;
}

/** Share of all users' top-k slots held by cold products at a cold shift. */
export function coldExposureAt(heads: ListHeads, shift: number): number {
  const rows = heads.warm.length / heads.k;
  let slots = 0;
  for (let r = 0; r < rows; r++) slots += coldSlots(heads, r, shift);
  return rows > 0 ? slots / (rows * heads.k) : 0;
}

/**
 * The smallest cold shift whose exposure reaches `target` (to within 2^-iterations of the bracket): bisection on the
 * non-decreasing, stepwise exposure between a shift that shows no cold product and one that shows them first.
 */
export function calibrateColdShift(heads: ListHeads, target: number, iterations = 50): number {
  const warm = finiteRange(heads.warm);
  const cold = finiteRange(heads.cold);
  if (!warm || !cold) return 0;
  let lo = warm.min - cold.max - 1;
  let hi = warm.max - cold.min + 1;
  for (let t = 0; t < iterations; t++) {
    const mid = (lo + hi) / 2;
    if (coldExposureAt(heads, mid) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Least and greatest finite value (null: none). */
function finiteRange(values: Float32Array): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return min <= max ? { min, max } : null;
}

/** The list whose exposure is calibrated: the page's top 20 (eval/topk.ts's LIST_K, a layer above). */
export const EXPOSURE_K = 20;

/** At most this many users (evenly spaced) set the exposure: enough for a stable share, bounded on large catalogues. */
export const CALIBRATION_USERS = 4000;

/**
 * The list heads of users with training purchases (at most `maxUsers`, evenly spaced): `scoring` rows (normalised for
 * cosine), warm products ranked with their `biases`, cold ones without.
 */
export function listHeads(scoring: { users: Matrix; items: Matrix }, biases: Float32Array, warm: Uint8Array, train: Interactions,
  k = EXPOSURE_K, maxUsers = CALIBRATION_USERS): ListHeads {
  const nUsers = scoring.users.rows;
  const { seenIndptr, seenIndices } = seenLists(train, nUsers);
  const active: number[] = [];
  for (let u = 0; u < nUsers; u++) if (seenIndptr[u + 1] > seenIndptr[u]) active.push(u);
  const step = Math.max(1, active.length / maxUsers);
  const sample = Int32Array.from({ length: Math.min(active.length, maxUsers) }, (_, j) => active[Math.floor(j * step)]);
  const warmRows: number[] = [];
  const coldRows: number[] = [];
  warm.forEach((w, i) => (w ? warmRows : coldRows).push(i));
  const warmIndex = new Int32Array(warm.length).fill(-1);
  warmRows.forEach((i, j) => (warmIndex[i] = j));
  const dim = scoring.users.cols;
  const warmItems = appendBiasColumn({ users: scoring.users, items: { data: gatherRows(scoring.items, warmRows), rows: warmRows.length, cols: dim } },
    Float32Array.from(warmRows, (i) => biases[i]));
  const warmTop = native.topK(warmItems.users.data, warmItems.items.data, dim + 1, sample, k, seenIndptr, Int32Array.from(seenIndices, (i) => warmIndex[i]));
  const noneSeen = new Int32Array(nUsers + 1);
  const coldTop = native.topK(scoring.users.data, gatherRows(scoring.items, coldRows), dim, sample, k, noneSeen, new Int32Array(0));
  return { k, warm: warmTop.scores, cold: coldTop.scores };
}

/**
 * The exposure target: the cold share of the test pairs of a validation split carved from `split`'s training pairs by
 * its own protocol (a time split for a time split, or for production data with timestamps). Null when that split cannot be
 * made (production data without timestamps, too little data): the caller keeps the quantile rule.
 */
export function coldShareTarget(split: Split, seed: number): number | null {
  const production = split.summary.coldPolicy === 'never-bought';
  const timed = split.train.timestamps.length > 0 && split.train.timestamps.every(Number.isFinite);
  if (production && !timed) return null;
  try {
    const validation = validationSplit(split, seed, { features: false, ...(production ? { protocol: 'time' as const } : {}) });
    const { testWarm, testCold } = validation.summary;
    return testWarm + testCold > 0 ? testCold / (testWarm + testCold) : null;
  } catch (e) {
    if (e instanceof InputError || e instanceof ConfigError) return null;
    throw e;
  }
}
