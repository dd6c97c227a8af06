// Synthetic fashion purchases drawn from a known ground-truth model (docs/synthetic-data.md):
// products with visible style and invisible brand/price factors, long-tailed popularity and
// activity, CNN-like sparse image features, and an exact oracle score truth_users[u]·truth_items[i].
import type { Dataset, Matrix } from './types.js';
import { Rng } from './random.js';
import { native } from '../native.js';
import { silentProgress, type Progress } from '../progress.js';

export interface GenerateOptions {
  /** Users with ≥ 5 interactions (they survive the usual filter): Table 1's "users". */
  users: number;
  /** Total interactions of those users: Table 1's "ratings". */
  ratings: number;
  /** Target number of products bought at least once (Table 1's "products"); the catalogue is enlarged for never-bought ones. */
  products: number;
  /** Image feature dimension I (4096 = Caffe FC7 in the paper). */
  featureDim: number;
  /** Extra users with 1–4 interactions, as a fraction of `users` (removed by the ≥ 5 filter). */
  extraUsersFraction: number;
  /** Category names; category sizes fall off like 1/(rank+1)^0.8. */
  categories: string[];
  /** Dimensions of the latent style (visible), non-visual (brand/price, invisible) and nuisance (pose/background) factors. */
  styleDim: number;
  nonVisualDim: number;
  nuisanceDim: number;
  /** Width of the hidden tanh layer of the feature "camera". */
  hiddenDim: number;
  /** Weights α, β, γ of style, non-visual and category affinity in the score. */
  styleWeight: number;
  nonVisualWeight: number;
  categoryWeight: number;
  /** Standard deviation of log-popularity (log-normal popularity). */
  popularitySigma: number;
  /** Spread of category style centres and of products around their centre (per style dimension). */
  categorySpread: number;
  withinCategorySpread: number;
  /** Strength of the category one-hot in the image input. */
  categoryVisibility: number;
  /** Feature noise standard deviation relative to the signal's. */
  featureNoise: number;
  /** Target fraction of exact zeros in the features (ReLU sparsity). */
  zeroFraction: number;
  /** Number of shopper segments whose centres users' tastes vary around, and the individual share of taste variance. */
  personas: number;
  personaNoise: number;
  /** Log-normal σ of user activity above the minimum of 5. */
  activitySigma: number;
  /** Cap on a user's interactions as a fraction of the catalogue. */
  maxActivityFraction: number;
}

const MODEL_DEFAULTS = {
  extraUsersFraction: 0.12,
  styleDim: 16,
  nonVisualDim: 8,
  nuisanceDim: 12,
  styleWeight: 0.6,
  nonVisualWeight: 0.6,
  categoryWeight: 1.5,
  popularitySigma: 0.85,
  categorySpread: 0.8,
  withinCategorySpread: 0.6,
  categoryVisibility: 1.5,
  featureNoise: 0.5,
  zeroFraction: 0.7,
  personas: 12,
  personaNoise: 0.2,
  activitySigma: 1.0,
  maxActivityFraction: 0.2,
};

const CATEGORIES = {
  men: ['T-Shirts', 'Shirts', 'Polos', 'Sweaters', 'Hoodies & Sweatshirts', 'Jackets & Coats', 'Suits & Blazers', 'Jeans', 'Pants', 'Shorts',
    'Swim', 'Underwear', 'Socks', 'Sleep & Lounge', 'Active', 'Belts', 'Hats & Caps', 'Wallets', 'Ties', 'Sunglasses'],
  women: ['Dresses', 'Tops & Tees', 'Blouses', 'Sweaters', 'Jackets & Coats', 'Jeans', 'Pants', 'Skirts', 'Shorts', 'Leggings', 'Swimsuits',
    'Lingerie', 'Sleep & Lounge', 'Active', 'Socks & Hosiery', 'Handbags', 'Scarves', 'Hats', 'Belts', 'Sunglasses', 'Jumpsuits', 'Suiting'],
  shoes: ['Sneakers', 'Running Shoes', 'Boots', 'Ankle Boots', 'Sandals', 'Flip-Flops', 'Loafers', 'Oxfords', 'Pumps', 'Flats', 'Heels',
    'Slippers', 'Clogs', 'Mules', 'Athletic', 'Work & Safety'],
  jewelry: ['Rings', 'Necklaces', 'Pendants', 'Earrings', 'Bracelets', 'Anklets', 'Brooches', 'Watches', 'Charms', 'Body Jewelry',
    'Jewelry Sets', 'Cufflinks'],
};

/**
 * Presets. `tiny` and `small` are for tests and quick experiments; `men`, `women`, `shoes` and
 * `jewelry` match the paper's Table 1 after the ≥ 5 filter (users, ratings, products), I = 4096.
 */
export const PRESETS = {
  tiny: { ...MODEL_DEFAULTS, users: 300, ratings: 2700, products: 400, featureDim: 64, hiddenDim: 48, categories: ['Tops', 'Dresses', 'Jeans', 'Shoes', 'Bags', 'Jewelry'] },
  small: { ...MODEL_DEFAULTS, users: 2500, ratings: 25000, products: 4000, featureDim: 256, hiddenDim: 128,
    categories: ['Tops', 'Shirts', 'Dresses', 'Sweaters', 'Jackets', 'Jeans', 'Skirts', 'Shoes', 'Bags', 'Jewelry'] },
  // Amazon-like sparsity: ≈ 8 purchases per user, ≈ 3.5 per product, most products bought once or twice;
  // the invisible brand/price factors weigh as much as style, so images reveal only part of a taste.
  sparse: { ...MODEL_DEFAULTS, users: 4000, ratings: 32000, products: 9000, featureDim: 1024, hiddenDim: 128,
    nonVisualDim: 16, styleWeight: 0.6, nonVisualWeight: 0.6, activitySigma: 0.6, popularitySigma: 0.7,
    categories: ['Tops', 'Shirts', 'Dresses', 'Sweaters', 'Jackets', 'Jeans', 'Skirts', 'Shoes', 'Bags', 'Jewelry', 'Hats', 'Belts'] },
  men: { ...MODEL_DEFAULTS, users: 19618, ratings: 187181, products: 62376, featureDim: 4096, hiddenDim: 256, categories: CATEGORIES.men },
  women: { ...MODEL_DEFAULTS, users: 14110, ratings: 307863, products: 116971, featureDim: 4096, hiddenDim: 256, categories: CATEGORIES.women },
  shoes: { ...MODEL_DEFAULTS, users: 22066, ratings: 211818, products: 71219, featureDim: 4096, hiddenDim: 256, categories: CATEGORIES.shoes },
  jewelry: { ...MODEL_DEFAULTS, users: 13975, ratings: 161439, products: 62958, featureDim: 4096, hiddenDim: 256, categories: CATEGORIES.jewelry },
} satisfies Record<string, GenerateOptions>;

export type PresetName = keyof typeof PRESETS;

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/** Purchases start at 2012-01-01 and span about two years. */
const T0 = Date.UTC(2012, 0, 1) / 1000;
const SPAN = 2 * 365 * 86400;

/** Latent product factors; row-major [n × dim] arrays. */
interface Products {
  n: number;
  category: Int32Array;
  style: Float32Array;
  nonVisual: Float32Array;
  logPop: Float32Array;
}

function validate(o: GenerateOptions): void {
  const positive: Array<keyof GenerateOptions> = ['users', 'ratings', 'products', 'featureDim', 'styleDim', 'hiddenDim'];
  for (const key of positive) {
    const value = o[key] as number;
    if (!Number.isInteger(value) || value <= 0) throw new Error(`generate: option ${key} must be a positive integer, found ${value}`);
  }
  if (o.ratings < 5 * o.users) throw new Error(`generate: ratings (${o.ratings}) must be at least 5 × users (${5 * o.users})`);
  if (o.categories.length === 0) throw new Error('generate: at least one category is needed');
  if (!(o.zeroFraction > 0 && o.zeroFraction < 1)) throw new Error(`generate: zeroFraction must be in (0, 1), found ${o.zeroFraction}`);
}

/** Draws `n` products' latent factors (a prefix of the same sequence for any n, so n can be tuned). */
function drawProducts(o: GenerateOptions, rng: Rng, n: number): Products {
  const C = o.categories.length;
  const S = o.styleDim;
  const B = o.nonVisualDim;
  const centres = new Float32Array(C * S);
  rng.fillNormal(centres, o.categorySpread);
  const weights = o.categories.map((_, c) => 1 / Math.pow(c + 1, 0.8));
  const cumulative = weights.map(((sum) => (w: number) => (sum += w))(0));
  const total = cumulative[C - 1];
  const p: Products = { n, category: new Int32Array(n), style: new Float32Array(n * S), nonVisual: new Float32Array(n * B), logPop: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const u = rng.next() * total;
    let c = 0;
    while (c < C - 1 && cumulative[c] <= u) c++;
    p.category[i] = c;
    for (let d = 0; d < S; d++) p.style[i * S + d] = centres[c * S + d] + o.withinCategorySpread * rng.normal();
    for (let d = 0; d < B; d++) p.nonVisual[i * B + d] = rng.normal();
    p.logPop[i] = o.popularitySigma * rng.normal();
  }
  return p;
}

/**
 * Expected number of products bought at least once when `purchases` purchases follow the
 * products' marginal weights: popularity × E_users[e^affinity] = e^(logPop + α²|s|²/2 + β²|b|²/2).
 */
function expectedBought(o: GenerateOptions, p: Products, n: number, purchases: number): number {
  const S = o.styleDim;
  const B = o.nonVisualDim;
  const logW = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    let s2 = 0;
    for (let d = 0; d < S; d++) s2 += p.style[i * S + d] ** 2;
    let b2 = 0;
    for (let d = 0; d < B; d++) b2 += p.nonVisual[i * B + d] ** 2;
    logW[i] = p.logPop[i] + (o.styleWeight ** 2 * s2 + o.nonVisualWeight ** 2 * b2) / 2;
    max = Math.max(max, logW[i]);
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (logW[i] = Math.exp(logW[i] - max));
  let bought = 0;
  for (let i = 0; i < n; i++) bought += 1 - Math.exp(-purchases * logW[i] / sum);
  return bought;
}

/** Catalogue size for which about `o.products` products get bought. */
function catalogueSize(o: GenerateOptions, rng: Rng, purchases: number): Products {
  const pool = drawProducts(o, rng, Math.ceil(o.products * 3));
  let n = o.products;
  for (let iteration = 0; iteration < 4; iteration++) {
    n = Math.min(pool.n, Math.round(n * o.products / expectedBought(o, pool, n, purchases)));
  }
  const S = o.styleDim;
  const B = o.nonVisualDim;
  return { n, category: pool.category.slice(0, n), style: pool.style.slice(0, n * S), nonVisual: pool.nonVisual.slice(0, n * B), logPop: pool.logPop.slice(0, n) };
}

/** Interaction counts: kept users ≥ 5 summing exactly to `o.ratings`; extra users 1–4. */
function drawActivity(o: GenerateOptions, rng: Rng, catalogue: number): Int32Array {
  const extra = Math.round(o.users * o.extraUsersFraction);
  const counts = new Int32Array(o.users + extra);
  const cap = Math.max(5, Math.floor(catalogue * o.maxActivityFraction));
  const raw = new Float64Array(o.users);
  let rawSum = 0;
  for (let u = 0; u < o.users; u++) rawSum += (raw[u] = Math.exp(o.activitySigma * rng.normal()));
  // Scale the long-tailed draws so that the total is exact, then hand out the rounding remainder.
  const above = o.ratings - 5 * o.users;
  let assigned = 0;
  for (let u = 0; u < o.users; u++) {
    counts[u] = Math.min(cap, 5 + Math.floor(raw[u] * above / rawSum));
    assigned += counts[u];
  }
  for (let guard = 0; assigned < o.ratings && guard < 100 * o.ratings; guard++) {
    const u = rng.int(o.users);
    if (counts[u] < cap) {
      counts[u]++;
      assigned++;
    }
  }
  // Fewer light users the heavier: 1:4:3:2:1 weights → 40% have one interaction, 10% four.
  for (let u = o.users; u < counts.length; u++) {
    const r = rng.next() * 10;
    counts[u] = r < 4 ? 1 : r < 7 ? 2 : r < 9 ? 3 : 4;
  }
  return counts;
}

/** Ground-truth item rows [α·style, β·nonVisual, γ·onehot(category), logPop]. */
function truthItems(o: GenerateOptions, p: Products): Matrix {
  const S = o.styleDim;
  const B = o.nonVisualDim;
  const C = o.categories.length;
  const D = S + B + C + 1;
  const data = new Float32Array(p.n * D);
  for (let i = 0; i < p.n; i++) {
    const row = i * D;
    for (let d = 0; d < S; d++) data[row + d] = o.styleWeight * p.style[i * S + d];
    for (let d = 0; d < B; d++) data[row + S + d] = o.nonVisualWeight * p.nonVisual[i * B + d];
    data[row + S + B + p.category[i]] = o.categoryWeight;
    data[row + D - 1] = p.logPop[i];
  }
  return { data, rows: p.n, cols: D };
}

/**
 * Ground-truth user rows [taste, nonVisual taste, category preference, 1]. Shoppers fall into
 * `personas` segments: a user's tastes are their persona's centre plus individual variation
 * (share `personaNoise` of the variance), every entry standard normal overall.
 */
function truthUsers(o: GenerateOptions, rng: Rng, nUsers: number): Matrix {
  const D = o.styleDim + o.nonVisualDim + o.categories.length + 1;
  const centres = rng.fillNormal(new Float32Array(o.personas * (D - 1)));
  const shared = Math.sqrt(1 - o.personaNoise);
  const own = Math.sqrt(o.personaNoise);
  const data = new Float32Array(nUsers * D);
  for (let u = 0; u < nUsers; u++) {
    const persona = rng.int(o.personas) * (D - 1);
    for (let d = 0; d < D - 1; d++) data[u * D + d] = shared * centres[persona + d] + own * rng.normal();
    data[u * D + D - 1] = 1;
  }
  return { data, rows: nUsers, cols: D };
}

/** 2^16 fixed standard-normal draws, a cheap source of feature noise. */
const NOISE_TABLE = new Rng(0x5eed).fillNormal(new Float32Array(1 << 16));

/** The empirical `q`-quantile of a sample of values (sorted copy). */
function quantile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Per-dimension bias putting about `zeroFraction` of the scaled pre-activations below zero. */
function featureBias(pre: Float32Array, noiseSd: number, scale: number, zeroFraction: number, spread: Float32Array): Float32Array {
  const sample = pre.slice(0, Math.min(pre.length, 1 << 18));
  const sampleNoise = new Rng(7).fillNormal(new Float32Array(sample.length), noiseSd);
  for (let k = 0; k < sample.length; k++) sample[k] = scale * (sample[k] + sampleNoise[k]);
  const threshold = quantile(sample, zeroFraction);
  const bias = new Float32Array(spread.length);
  for (let j = 0; j < bias.length; j++) bias[j] = -threshold + spread[j];
  return bias;
}

/**
 * Image features f = ReLU(scale·(W2·tanh(W1·[style; v·onehot(cat); nuisance] + c1) + noise) + b),
 * computed in blocks of products with sgemm. The bias b is set from the first block so that about
 * `zeroFraction` of the values are exactly zero, with some spread between feature dimensions.
 */
function imageFeatures(o: GenerateOptions, p: Products, rng: Rng, progress: Progress): Matrix {
  const S = o.styleDim;
  const C = o.categories.length;
  const Nn = o.nuisanceDim;
  const H = o.hiddenDim;
  const I = o.featureDim;
  const Din = S + C + Nn;
  const styleScale = 1 / Math.hypot(o.categorySpread, o.withinCategorySpread);
  const W1 = rng.fillNormal(new Float32Array(Din * H), 1.5 / Math.sqrt(Din)); // [Din × H]: tanh partly saturated
  const c1 = rng.fillNormal(new Float32Array(H), 0.5);
  const W2 = rng.fillNormal(new Float32Array(H * I), 1 / Math.sqrt(H)); // [H × I]
  const biasSpread = rng.fillNormal(new Float32Array(I), 0.3);
  const features = new Float32Array(p.n * I);
  const block = 1024;
  const x = new Float32Array(block * Din);
  const h = new Float32Array(block * H);
  let bias: Float32Array | undefined;
  let scale = 1;
  let noiseSd = 0;
  progress.start('image features', p.n);
  for (let start = 0; start < p.n; start += block) {
    const rows = Math.min(block, p.n - start);
    x.fill(0);
    for (let r = 0; r < rows; r++) {
      const i = start + r;
      for (let d = 0; d < S; d++) x[r * Din + d] = styleScale * p.style[i * S + d];
      x[r * Din + S + p.category[i]] = o.categoryVisibility;
      for (let d = 0; d < Nn; d++) x[r * Din + S + C + d] = rng.normal();
    }
    for (let r = 0; r < rows; r++) h.set(c1, r * H);
    native.sgemm(false, false, rows, H, Din, 1, x, Din, W1, H, 1, h, H);
    let hiddenPower = 0;
    for (let k = 0; k < rows * H; k++) hiddenPower += (h[k] = Math.tanh(h[k])) ** 2;
    const out = features.subarray(start * I, (start + rows) * I);
    native.sgemm(false, false, rows, I, H, 1, h, H, W2, I, 0, out, I);
    if (bias === undefined) {
      // Signal sd per value ≈ √(mean h²) since W2 ~ N(0, 1/H); noise is relative to it.
      const signalSd = Math.sqrt(hiddenPower / (rows * H));
      noiseSd = o.featureNoise * signalSd;
      scale = 1 / Math.hypot(signalSd, noiseSd);
      bias = featureBias(out, noiseSd, scale, o.zeroFraction, biasSpread);
    }
    // Noise from a table of 2^16 normal draws indexed by 16-bit halves of one random word: ~10×
    // cheaper than Box–Muller, and the hot loop of the big presets (n × 4096 values).
    const noiseScale = scale * noiseSd;
    const count = rows * I;
    for (let k = 0; k < count; k += 2) {
      const word = rng.uint32();
      const a = scale * out[k] + noiseScale * NOISE_TABLE[word >>> 16] + bias[k % I];
      out[k] = a > 0 ? a : 0;
      if (k + 1 < count) {
        const b = scale * out[k + 1] + noiseScale * NOISE_TABLE[word & 0xffff] + bias[(k + 1) % I];
        out[k + 1] = b > 0 ? b : 0;
      }
    }
    progress.update(start + rows);
  }
  progress.finish();
  return { data: features, rows: p.n, cols: I };
}

/** Variance of the affinity α·t·s + β·n·b + γ·q[c] for standard-normal user factors. */
function affinityVariance(o: GenerateOptions): number {
  const styleVar = o.categorySpread ** 2 + o.withinCategorySpread ** 2;
  return o.styleWeight ** 2 * o.styleDim * styleVar + o.nonVisualWeight ** 2 * o.nonVisualDim + o.categoryWeight ** 2;
}

/**
 * Draws `k` distinct items from softmax(scores) by successive sampling without replacement
 * (Plackett–Luce), which is the distribution of the Gumbel-top-k trick but needs only k random
 * draws after one pass of exp() instead of a Gumbel draw per item. `mark`/`stamp` flag chosen items.
 */
export function sampleWithoutReplacement(scores: Float32Array, k: number, rng: Rng, cum: Float64Array, mark: Int32Array, stamp: number, out: number[]): void {
  const n = scores.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (scores[i] > max) max = scores[i];
  const rebuild = () => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (mark[i] !== stamp) sum += Math.exp(scores[i] - max);
      cum[i] = sum;
    }
    return sum;
  };
  let total = rebuild();
  let rejected = 0;
  out.length = 0;
  while (out.length < k) {
    const target = rng.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    if (mark[lo] === stamp) {
      // Drawing an already chosen item = rejecting it; when that gets frequent, remove their mass.
      if (++rejected > 4 * k + 32) {
        total = rebuild();
        rejected = 0;
      }
      continue;
    }
    mark[lo] = stamp;
    out.push(lo);
  }
}

/** Integer times, strictly increasing, inside a random window of the two-year span. */
function userTimes(k: number, rng: Rng): number[] {
  const length = SPAN * (0.1 + 0.9 * rng.next());
  const start = T0 + (SPAN - length) * rng.next();
  const times = Array.from({ length: k }, () => Math.floor(start + length * rng.next())).sort((a, b) => a - b);
  for (let j = 1; j < k; j++) if (times[j] <= times[j - 1]) times[j] = times[j - 1] + 1;
  return times;
}

/** Purchases of every user, scored by sgemm over blocks of users against the ground-truth item matrix. */
function drawPurchases(o: GenerateOptions, users: Matrix, items: Matrix, logPop: Float32Array, counts: Int32Array, rng: Rng, progress: Progress): Dataset['interactions'] {
  const n = items.rows;
  const D = items.cols;
  let total = 0;
  for (const c of counts) total += c;
  const result = { users: new Int32Array(total), items: new Int32Array(total), ratings: new Float32Array(total), timestamps: new Float64Array(total) };
  const affVar = affinityVariance(o);
  const affSd = Math.sqrt(affVar);
  const block = Math.max(1, Math.min(256, Math.floor((64 << 20) / (4 * n))));
  const scores = new Float32Array(block * n);
  const cum = new Float64Array(n);
  const mark = new Int32Array(n);
  const chosen: number[] = [];
  let k = 0;
  progress.start('purchases', users.rows);
  for (let start = 0; start < users.rows; start += block) {
    const rows = Math.min(block, users.rows - start);
    native.sgemm(false, true, rows, n, D, 1, users.data.subarray(start * D, (start + rows) * D), D, items.data, D, 0, scores, n);
    for (let r = 0; r < rows; r++) {
      const u = start + r;
      const row = scores.subarray(r * n, (r + 1) * n);
      sampleWithoutReplacement(row, counts[u], rng, cum, mark, u + 1, chosen);
      rng.shuffle(chosen); // sampling order follows the score; purchase order should not
      const times = userTimes(chosen.length, rng);
      chosen.forEach((item, j) => {
        // Purchased items have affinity ≈ N(affVar, affVar) (softmax tilt), so z is centred on them.
        const z = (row[item] - logPop[item] - affVar) / affSd;
        const rating = Math.round(3.7 + 0.8 * z + 0.9 * rng.normal());
        result.users[k] = u;
        result.items[k] = item;
        result.ratings[k] = Math.min(5, Math.max(1, rating));
        result.timestamps[k] = times[j];
        k++;
      });
    }
    progress.update(start + rows);
  }
  progress.finish(`${total} purchases`);
  return result;
}

function paddedId(prefix: string, index: number, total: number): string {
  return prefix + String(index + 1).padStart(Math.max(6, String(total).length), '0');
}

/** Resolves a preset name or options, with a clear error for an unknown name. */
export function resolveOptions(spec: PresetName | GenerateOptions): GenerateOptions {
  if (typeof spec !== 'string') return spec;
  if (!isPresetName(spec)) throw new Error(`generate: unknown preset "${spec}"; expected one of ${Object.keys(PRESETS).join(', ')}`);
  return PRESETS[spec];
}

/** The bought products (in catalogue order) and the interactions renumbered to them. */
function dropUnbought(products: Products, interactions: Dataset['interactions']): { kept: Products; interactions: Dataset['interactions'] } {
  const newIndex = new Int32Array(products.n).fill(-1);
  for (const i of interactions.items) newIndex[i] = 0;
  let n = 0;
  for (let i = 0; i < products.n; i++) if (newIndex[i] === 0) newIndex[i] = n++;
  const S = products.style.length / products.n;
  const B = products.nonVisual.length / products.n;
  const kept: Products = {
    n,
    category: new Int32Array(n),
    style: new Float32Array(n * S),
    nonVisual: new Float32Array(n * B),
    logPop: new Float32Array(n),
  };
  for (let i = 0; i < products.n; i++) {
    const k = newIndex[i];
    if (k < 0) continue;
    kept.category[k] = products.category[i];
    kept.logPop[k] = products.logPop[i];
    kept.style.set(products.style.subarray(i * S, (i + 1) * S), k * S);
    kept.nonVisual.set(products.nonVisual.subarray(i * B, (i + 1) * B), k * B);
  }
  return { kept, interactions: { ...interactions, items: interactions.items.map((i) => newIndex[i]) } };
}

/**
 * Generates a data set from the ground-truth model (docs/synthetic-data.md); the same
 * (options, seed) always gives identical data. Users with 1–4 interactions are included on purpose.
 */
export function generate(spec: PresetName | GenerateOptions, seed: number, progress: Progress = silentProgress): Dataset {
  return generateWithStyles(spec, seed, progress).dataset;
}

/** What product images show: each product's category and visible style (sd ≈ 1 per dimension). */
export interface ProductStyles {
  category: Int32Array;
  categories: string[];
  /** Row-major [products × styleDim]. */
  style: Float32Array;
  styleDim: number;
}

/** `generate`, plus the latent styles of the data set's products (for rendering their images). */
export function generateWithStyles(spec: PresetName | GenerateOptions, seed: number, progress: Progress = silentProgress): { dataset: Dataset; styles: ProductStyles } {
  const o = resolveOptions(spec);
  validate(o);
  const rng = new Rng(seed);
  const productRng = rng.fork(1);
  const userRng = rng.fork(2);
  const featureRng = rng.fork(3);
  const purchaseRng = rng.fork(4);
  // Light users buy 2.1 items on average (see drawActivity).
  const allPurchases = o.ratings + 2.1 * Math.round(o.users * o.extraUsersFraction);
  const products = catalogueSize(o, productRng, allPurchases);
  const activity = drawActivity(o, userRng, products.n);
  const order = userRng.permutation(activity.length); // interleave light users with the others
  const counts = Int32Array.from(order, (k) => activity[k]);
  const users = truthUsers(o, userRng, counts.length);
  const drawn = drawPurchases(o, users, truthItems(o, products), products.logPop, counts, purchaseRng, progress);
  // Products nobody bought are not part of the data set (Table 1 counts bought products);
  // dropping them before drawing images keeps files and memory at the size of the real catalogue.
  const { kept, interactions } = dropUnbought(products, drawn);
  const items = truthItems(o, kept);
  const features = imageFeatures(o, kept, featureRng, progress);
  const itemIds = Array.from({ length: kept.n }, (_, i) => paddedId('P', i, kept.n));
  const styleScale = 1 / Math.hypot(o.categorySpread, o.withinCategorySpread);
  const styles = { category: kept.category, categories: o.categories, style: kept.style.map((v) => v * styleScale), styleDim: o.styleDim };
  const dataset: Dataset = {
    userIds: Array.from({ length: counts.length }, (_, u) => paddedId('U', u, counts.length)),
    itemIds,
    items: itemIds.map((_, i) => ({ title: `${o.categories[kept.category[i]]} item ${i + 1}`, category: o.categories[kept.category[i]], imageUrl: '' })),
    interactions,
    features,
    truth: { users, items },
  };
  return { dataset, styles };
}
