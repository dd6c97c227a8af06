// Synthetic fashion purchases drawn from a known ground-truth model (docs/synthetic-data.md):
// products with visible style and invisible brand/price factors, long-tailed popularity and
// activity, CNN-like sparse image features, and an exact oracle score truth_users[u]·truth_items[i].
import type { Dataset, Matrix } from './types.js';
import { Rng } from './random.js';
import { native } from '../native.js';
import { silentProgress, type Progress } from '../progress.js';
import { floatToHalf, halfOverflowReason, npyHeader, type NpyDtype } from './npy.js';
import type { StreamedFeatures } from './dataset.js';

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
  /**
   * Share of the catalogue released after the first day (new arrivals, release times uniform over
   * the two years); the rest is on sale from the start. Users buy only released products, so a
   * time split has natural new arrivals. Must leave at least the activity cap on sale from day one.
   */
  arrivalFraction: number;
  /**
   * Consideration-set size for catalogues too large to score whole per user (0: exact). When set, each user's
   * purchases are drawn among this many products sampled by popularity from those on sale (with replacement), by
   * the rest of the true score: popularity × e^affinity as in the exact draw, without a pass over the catalogue.
   */
  candidates?: number;
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
  arrivalFraction: 0.5,
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
  // A whole Amazon category (≈ 1 M products bought, ≈ 5 M purchases, `sparse`'s tails): written streaming
  // (`generateStreamed`), purchases drawn from consideration sets, since neither fits the exact path's memory or time.
  xl: { ...MODEL_DEFAULTS, users: 600000, ratings: 5000000, products: 1000000, featureDim: 4096, hiddenDim: 256,
    nonVisualDim: 16, activitySigma: 0.6, popularitySigma: 0.7, candidates: 4096,
    categories: Object.entries(CATEGORIES).flatMap(([department, names]) => names.map((name) => `${department}/${name}`)) },
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
  /** Seconds since the epoch at which the product goes on sale (non-decreasing once `byRelease` has ordered the catalogue). */
  release: Float64Array;
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
  // Every user must find enough released products at any time: the heaviest buys maxActivityFraction of the catalogue.
  if (!(o.arrivalFraction >= 0 && o.arrivalFraction <= 1 - o.maxActivityFraction)) {
    throw new Error(`generate: arrivalFraction must be in [0, 1 − maxActivityFraction = ${1 - o.maxActivityFraction}], found ${o.arrivalFraction}`);
  }
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
  const p: Products = { n, category: new Int32Array(n), style: new Float32Array(n * S), nonVisual: new Float32Array(n * B), logPop: new Float32Array(n), release: new Float64Array(n).fill(T0) };
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

/** Time bins over which expectedBought integrates the changing set of products on sale. */
const SALE_BINS = 24;

/**
 * Expected number of products bought at least once when `purchases` purchases, spread evenly over
 * the two years, follow the marginal weights of the products on sale at the time: popularity ×
 * E_users[e^affinity] = e^(logPop + α²|s|²/2 + β²|b|²/2), normalised over the products released by then.
 */
function expectedBought(o: GenerateOptions, p: Products, n: number, purchases: number): number {
  const S = o.styleDim;
  const B = o.nonVisualDim;
  const w = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    let s2 = 0;
    for (let d = 0; d < S; d++) s2 += p.style[i * S + d] ** 2;
    let b2 = 0;
    for (let d = 0; d < B; d++) b2 += p.nonVisual[i * B + d] ** 2;
    w[i] = p.logPop[i] + (o.styleWeight ** 2 * s2 + o.nonVisualWeight ** 2 * b2) / 2;
    max = Math.max(max, w[i]);
  }
  // firstBin[i]: the first time bin (at its middle) in which product i is on sale.
  const firstBin = Int32Array.from({ length: n }, (_, i) => Math.max(0, Math.ceil((p.release[i] - T0) / SPAN * SALE_BINS - 0.5)));
  const mass = new Float64Array(SALE_BINS + 1);
  for (let i = 0; i < n; i++) mass[firstBin[i]] += (w[i] = Math.exp(w[i] - max));
  // inverse[b] = Σ over bins b' ≥ b of 1 / (weight on sale in bin b').
  const inverse = new Float64Array(SALE_BINS + 1);
  let onSaleMass = 0;
  const perBin = new Float64Array(SALE_BINS);
  for (let b = 0; b < SALE_BINS; b++) perBin[b] = (onSaleMass += mass[b]) > 0 ? 1 / onSaleMass : 0;
  for (let b = SALE_BINS - 1; b >= 0; b--) inverse[b] = inverse[b + 1] + perBin[b];
  let bought = 0;
  for (let i = 0; i < n; i++) bought += 1 - Math.exp(-purchases / SALE_BINS * w[i] * inverse[firstBin[i]]);
  return bought;
}

/** Catalogue size for which about `o.products` products get bought. */
function catalogueSize(o: GenerateOptions, rng: Rng, releaseRng: Rng, purchases: number): Products {
  const pool = drawReleases(o, drawProducts(o, rng, Math.ceil(o.products * 3)), releaseRng);
  let n = o.products;
  for (let iteration = 0; iteration < 4; iteration++) {
    n = Math.min(pool.n, Math.round(n * o.products / expectedBought(o, pool, n, purchases)));
  }
  const S = o.styleDim;
  const B = o.nonVisualDim;
  return { n, category: pool.category.slice(0, n), style: pool.style.slice(0, n * S), nonVisual: pool.nonVisual.slice(0, n * B), logPop: pool.logPop.slice(0, n), release: pool.release.slice(0, n) };
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
 * computed in blocks of FEATURE_BLOCK products with sgemm and yielded one block at a time (the same buffer each
 * time: consume it before asking for the next). The bias b is set from the first block so that about
 * `zeroFraction` of the values are exactly zero, with some spread between feature dimensions.
 */
function* featureBlocks(o: GenerateOptions, p: Products, rng: Rng, progress: Progress): Generator<Matrix> {
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
  const block = FEATURE_BLOCK;
  const x = new Float32Array(block * Din);
  const h = new Float32Array(block * H);
  const buffer = new Float32Array(Math.min(block, p.n) * I);
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
    const out = buffer.subarray(0, rows * I);
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
    yield { data: out, rows, cols: I };
    progress.update(start + rows);
  }
  progress.finish();
}

/** Products per block of image features. */
const FEATURE_BLOCK = 1024;

/** All image features as one matrix (`featureBlocks` gathered). */
function imageFeatures(o: GenerateOptions, p: Products, rng: Rng, progress: Progress): Matrix {
  const features = new Float32Array(p.n * o.featureDim);
  let offset = 0;
  for (const block of featureBlocks(o, p, rng, progress)) {
    features.set(block.data, offset);
    offset += block.data.length;
  }
  return { data: features, rows: p.n, cols: o.featureDim };
}

/**
 * features.npy written as it is computed (header, then one block of rows at a time): the whole matrix is never in
 * memory. A value float16 cannot hold is an error naming its row, raised before that block is written.
 */
function* featureNpy(o: GenerateOptions, p: Products, rng: Rng, dtype: NpyDtype, progress: Progress): Generator<ArrayBufferView> {
  yield npyHeader(p.n, o.featureDim, dtype);
  const halves = dtype === 'float16' ? new Uint16Array(Math.min(FEATURE_BLOCK, p.n) * o.featureDim) : null;
  let row = 0;
  for (const block of featureBlocks(o, p, rng, progress)) {
    if (!halves) {
      yield block.data;
    } else {
      const out = halves.subarray(0, block.data.length);
      for (let k = 0; k < out.length; k++) {
        if (((out[k] = floatToHalf(block.data[k])) & 0x7c00) === 0x7c00) {
          throw new Error(`generated features as float16: row ${row + Math.floor(k / o.featureDim)}, column ${k % o.featureDim}: ${halfOverflowReason(block.data[k])}`);
        }
      }
      yield out;
    }
    row += block.rows;
  }
}

/** Variance of the affinity α·t·s + β·n·b + γ·q[c] for standard-normal user factors. */
function affinityVariance(o: GenerateOptions): number {
  const styleVar = o.categorySpread ** 2 + o.withinCategorySpread ** 2;
  return o.styleWeight ** 2 * o.styleDim * styleVar + o.nonVisualWeight ** 2 * o.nonVisualDim + o.categoryWeight ** 2;
}

/**
 * Draws distinct items from softmax(scores) by successive sampling without replacement
 * (Plackett–Luce), which is the distribution of the Gumbel-top-k trick but needs only one random
 * draw per purchase after one pass of exp() instead of a Gumbel draw per item. Draw d chooses among
 * items [0, limits[d]) only: items are in release order and limits[d] counts the products on sale
 * at that purchase's time. `mark`/`stamp` flag chosen items.
 */
export function sampleWithoutReplacement(scores: Float32Array, limits: number[], rng: Rng, cum: Float64Array, mark: Int32Array, stamp: number, out: number[]): void {
  const n = scores.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (scores[i] > max) max = scores[i];
  const rebuild = () => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (mark[i] !== stamp) sum += Math.exp(scores[i] - max);
      cum[i] = sum;
    }
  };
  rebuild();
  let rejected = 0;
  out.length = 0;
  while (out.length < limits.length) {
    const limit = limits[out.length];
    const mass = cum[limit - 1];
    if (!(mass > 0)) throw new Error(`generate: a user has bought all ${limit} products on sale at one of their purchases; lower arrivalFraction or maxActivityFraction`);
    const target = rng.next() * mass;
    let lo = 0;
    let hi = limit - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    if (mark[lo] === stamp) {
      // Drawing an already chosen item = rejecting it; when that gets frequent, remove their mass.
      if (++rejected > 4 * limits.length + 32) {
        rebuild();
        rejected = 0;
      }
      continue;
    }
    mark[lo] = stamp;
    out.push(lo);
  }
}

/** Number of products on sale at time t: release times are sorted, so this is an upper bound search. */
function onSale(release: Float64Array, t: number): number {
  let lo = 0;
  let hi = release.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (release[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Integer times, strictly increasing, inside a random window of the two-year span. */
function userTimes(k: number, rng: Rng): number[] {
  const length = SPAN * (0.1 + 0.9 * rng.next());
  const start = T0 + (SPAN - length) * rng.next();
  const times = Array.from({ length: k }, () => Math.floor(start + length * rng.next())).sort((a, b) => a - b);
  for (let j = 1; j < k; j++) if (times[j] <= times[j - 1]) times[j] = times[j - 1] + 1;
  return times;
}

/** The purchases being drawn, filled in user order. */
interface PurchaseLog {
  interactions: Dataset['interactions'];
  /** Next free position. */
  next: number;
}

function purchaseLog(counts: Int32Array): PurchaseLog {
  let total = 0;
  for (const c of counts) total += c;
  return { interactions: { users: new Int32Array(total), items: new Int32Array(total), ratings: new Float32Array(total), timestamps: new Float64Array(total) }, next: 0 };
}

/**
 * Draws user u's purchase times and products and appends them with their ratings. `choose(limits, out)` fills `out`
 * with distinct products, draw d among the first limits[d] of the catalogue (those on sale at that purchase's time);
 * `affinity(item)` is the user's true score of a product less its popularity.
 */
function appendUserPurchases(o: GenerateOptions, u: number, count: number, release: Float64Array, rng: Rng, log: PurchaseLog,
  choose: (limits: number[], out: number[]) => void, affinity: (item: number) => number, chosen: number[]): void {
  const affVar = affinityVariance(o);
  const affSd = Math.sqrt(affVar);
  const times = userTimes(count, rng);
  // Purchases are drawn in a random order of the user's time slots: sampling order follows the
  // score, and purchase order should not.
  const slots = Array.from(rng.permutation(times.length));
  choose(slots.map((j) => onSale(release, times[j])), chosen);
  const bySlot = new Int32Array(times.length);
  chosen.forEach((item, d) => (bySlot[slots[d]] = item));
  const out = log.interactions;
  bySlot.forEach((item, j) => {
    // Purchased items have affinity ≈ N(affVar, affVar) (softmax tilt), so z is centred on them.
    const z = (affinity(item) - affVar) / affSd;
    const rating = Math.round(3.7 + 0.8 * z + 0.9 * rng.normal());
    const k = log.next++;
    out.users[k] = u;
    out.items[k] = item;
    out.ratings[k] = Math.min(5, Math.max(1, rating));
    out.timestamps[k] = times[j];
  });
}

/** Purchases of every user, scored by sgemm over blocks of users against the ground-truth item matrix. */
function drawPurchases(o: GenerateOptions, users: Matrix, items: Matrix, products: Products, counts: Int32Array, rng: Rng, progress: Progress): Dataset['interactions'] {
  const { logPop, release } = products;
  const n = items.rows;
  const D = items.cols;
  const log = purchaseLog(counts);
  const block = Math.max(1, Math.min(256, Math.floor((64 << 20) / (4 * n))));
  const scores = new Float32Array(block * n);
  const cum = new Float64Array(n);
  const mark = new Int32Array(n);
  const chosen: number[] = [];
  progress.start('purchases', users.rows);
  for (let start = 0; start < users.rows; start += block) {
    const rows = Math.min(block, users.rows - start);
    native.sgemm(false, true, rows, n, D, 1, users.data.subarray(start * D, (start + rows) * D), D, items.data, D, 0, scores, n);
    for (let r = 0; r < rows; r++) {
      const u = start + r;
      const row = scores.subarray(r * n, (r + 1) * n);
      appendUserPurchases(o, u, counts[u], release, rng, log, (limits, out) => sampleWithoutReplacement(row, limits, rng, cum, mark, u + 1, out),
        (item) => row[item] - logPop[item], chosen);
    }
    progress.update(start + rows);
  }
  progress.finish(`${log.next} purchases`);
  return log.interactions;
}

/** Walker/Vose alias table: O(1) draws from fixed weights. */
interface AliasTable {
  probability: Float64Array;
  alias: Int32Array;
}

function aliasTable(weights: Float64Array): AliasTable {
  const n = weights.length;
  let total = 0;
  for (const w of weights) total += w;
  const probability = Float64Array.from(weights, (w) => (w * n) / total);
  const alias = new Int32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  probability.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    alias[s] = l;
    probability[l] -= 1 - probability[s];
    if (probability[l] < 1) small.push(large.pop()!);
  }
  for (const i of large) probability[i] = 1;
  for (const i of small) probability[i] = 1;
  return { probability, alias };
}

function aliasDraw(table: AliasTable, rng: Rng): number {
  const i = rng.int(table.probability.length);
  return rng.next() < table.probability[i] ? i : table.alias[i];
}

/** Users who browse one storefront, and the popularity draws that stock it. */
const STOREFRONT_USERS = 256;
const STOREFRONT_DRAWS = 65536;

/**
 * Purchases of every user from consideration sets (`candidates`). Every STOREFRONT_USERS users share a storefront:
 * STOREFRONT_DRAWS products drawn by popularity from the whole catalogue. Each user considers `candidates` draws
 * from it among the products on sale by their last purchase, and buys distinct ones with weight
 * multiplicity × e^affinity, draw d only among those on sale at that purchase's time. Popularity enters through the
 * draws, affinity through the weight, so a purchase follows popularity × e^affinity as the exact path's softmax does;
 * the storefront's affinities come from one sgemm per block of users, so the catalogue is never scanned per user
 * and its rows are read once per block, not at random per candidate.
 */
function drawConsideredPurchases(o: GenerateOptions, users: Matrix, products: Products, counts: Int32Array, rng: Rng, progress: Progress): Dataset['interactions'] {
  const log = purchaseLog(counts);
  const factors = productFactors(o, products);
  const popularity = aliasTable(Float64Array.from(products.logPop, Math.exp));
  const storefront = new Storefront(o, products.n);
  const sampler = new ConsiderationSampler(o.candidates ?? 0);
  const chosen: number[] = [];
  progress.start('purchases', users.rows);
  for (let start = 0; start < users.rows; start += STOREFRONT_USERS) {
    const rows = Math.min(STOREFRONT_USERS, users.rows - start);
    storefront.stock(popularity, factors, products.category, rng);
    const affinities = storefront.affinities(users, start, rows);
    for (let r = 0; r < rows; r++) {
      const u = start + r;
      const user = users.data.subarray(u * users.cols, (u + 1) * users.cols);
      const row = affinities.subarray(r * storefront.size, (r + 1) * storefront.size);
      // A product's affinity: its factors · the user's (sgemm above) + γ · the user's preference for its category.
      const affinity = (slot: number) => row[slot] + o.categoryWeight * user[storefront.F + storefront.category[slot]];
      appendUserPurchases(o, u, counts[u], products.release, rng, log,
        (limits, out) => sampler.choose(storefront, affinity, limits, out, rng), (item) => affinity(storefront.slotOf[item]), chosen);
    }
    progress.update(start + rows);
  }
  progress.finish(`${log.next} purchases`);
  return log.interactions;
}

/** The distinct products of one storefront, how often each was drawn, and their factor rows. */
class Storefront {
  /** Distinct products stocked. */
  size = 0;
  readonly F: number;
  readonly items: Int32Array;
  readonly category: Int32Array;
  /** Storefront slot of each drawn entry (uniform draws over them follow popularity). */
  readonly entries = new Int32Array(STOREFRONT_DRAWS);
  /** Slot of each catalogue product, −1 when not stocked. */
  readonly slotOf: Int32Array;
  private readonly factors: Float32Array;
  private scores = new Float32Array(0);

  constructor(o: GenerateOptions, catalogue: number) {
    this.F = o.styleDim + o.nonVisualDim;
    this.items = new Int32Array(STOREFRONT_DRAWS);
    this.category = new Int32Array(STOREFRONT_DRAWS);
    this.factors = new Float32Array(STOREFRONT_DRAWS * this.F);
    this.slotOf = new Int32Array(catalogue).fill(-1);
  }

  stock(popularity: AliasTable, factors: Float32Array, category: Int32Array, rng: Rng): void {
    const { F, items, slotOf, entries } = this;
    for (let s = 0; s < this.size; s++) slotOf[items[s]] = -1;
    this.size = 0;
    for (let k = 0; k < STOREFRONT_DRAWS; k++) {
      const item = aliasDraw(popularity, rng);
      if (slotOf[item] < 0) {
        const slot = (slotOf[item] = this.size++);
        items[slot] = item;
        this.category[slot] = category[item];
        this.factors.set(factors.subarray(item * F, (item + 1) * F), slot * F);
      }
      entries[k] = slotOf[item];
    }
  }

  /** [rows × size] factor affinities of users start … start + rows − 1 (their first F entries) with every slot. */
  affinities(users: Matrix, start: number, rows: number): Float32Array {
    if (this.scores.length < rows * this.size) this.scores = new Float32Array(STOREFRONT_USERS * STOREFRONT_DRAWS);
    const out = this.scores.subarray(0, rows * this.size);
    native.sgemm(false, true, rows, this.size, this.F, 1, users.data.subarray(start * users.cols), users.cols, this.factors, this.F, 0, out, this.size);
    return out;
  }
}

/** One user's consideration set at a time, in buffers reused from user to user. */
class ConsiderationSampler {
  private slots = new Int32Array(0);
  private weights = new Float64Array(0);
  private taken = new Uint8Array(0);
  /** Position in `slots` of each storefront slot drawn for the current user, −1 otherwise. */
  private readonly position = new Int32Array(STOREFRONT_DRAWS).fill(-1);

  constructor(private readonly size: number) {}

  /** Fills `out` with distinct products, draw d among those below limits[d] (on sale at that purchase). */
  choose(storefront: Storefront, affinity: (slot: number) => number, limits: number[], out: number[], rng: Rng): void {
    const distinct = this.drawCandidates(storefront, Math.max(this.size, 4 * limits.length), Math.max(...limits), rng);
    const { slots, weights, taken } = this;
    let max = -Infinity;
    const affinities = new Float64Array(distinct);
    for (let c = 0; c < distinct; c++) max = Math.max(max, (affinities[c] = affinity(slots[c])));
    const items = new Int32Array(distinct);
    for (let c = 0; c < distinct; c++) {
      weights[c] *= Math.exp(affinities[c] - max);
      taken[c] = 0;
      items[c] = storefront.items[slots[c]];
    }
    out.length = 0;
    for (const limit of limits) out.push(items[drawAmong(items, weights, taken, limit, rng)]);
  }

  /** `count` uniform draws of storefront entries on sale by `reach`, merged into distinct slots weighted by their count. */
  private drawCandidates(storefront: Storefront, count: number, reach: number, rng: Rng): number {
    if (this.slots.length < count) {
      this.slots = new Int32Array(count);
      this.weights = new Float64Array(count);
      this.taken = new Uint8Array(count);
    }
    const { slots, weights, position } = this;
    const { entries, items } = storefront;
    let onSale = 0;
    for (let k = 0; k < STOREFRONT_DRAWS && onSale === 0; k++) if (items[entries[k]] < reach) onSale++;
    if (onSale === 0) throw new Error('generate: a storefront has no product on sale at a user\'s purchases; raise the catalogue\'s products on sale from the start');
    let distinct = 0;
    for (let drawn = 0; drawn < count;) {
      const slot = entries[rng.int(STOREFRONT_DRAWS)];
      if (items[slot] >= reach) continue;
      drawn++;
      if (position[slot] < 0) {
        position[slot] = distinct;
        slots[distinct] = slot;
        weights[distinct++] = 0;
      }
      weights[position[slot]]++;
    }
    for (let c = 0; c < distinct; c++) position[slots[c]] = -1;
    return distinct;
  }
}

/** Rows [α·style, β·nonVisual] of every product (the first columns of `truthItems`), [n × (styleDim + nonVisualDim)]. */
function productFactors(o: GenerateOptions, p: Products): Float32Array {
  const S = o.styleDim;
  const B = o.nonVisualDim;
  const out = new Float32Array(p.n * (S + B));
  for (let i = 0; i < p.n; i++) {
    for (let d = 0; d < S; d++) out[i * (S + B) + d] = o.styleWeight * p.style[i * S + d];
    for (let d = 0; d < B; d++) out[i * (S + B) + S + d] = o.nonVisualWeight * p.nonVisual[i * B + d];
  }
  return out;
}

/** One weighted draw among the candidates not yet taken whose catalogue index is below `limit`; marks it taken. */
function drawAmong(candidates: Int32Array, weights: Float64Array, taken: Uint8Array, limit: number, rng: Rng): number {
  let mass = 0;
  for (let c = 0; c < candidates.length; c++) if (!taken[c] && candidates[c] < limit) mass += weights[c];
  if (!(mass > 0)) throw new Error(`generate: a user's consideration set has no product left on sale at one of their purchases; raise candidates`);
  let target = rng.next() * mass;
  let last = -1;
  for (let c = 0; c < candidates.length; c++) {
    if (taken[c] || candidates[c] >= limit) continue;
    last = c;
    if ((target -= weights[c]) < 0) break;
  }
  taken[last] = 1;
  return last;
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

/** The products at `indices`, in that order. */
function selectProducts(products: Products, indices: ArrayLike<number>): Products {
  const n = indices.length;
  const S = products.style.length / products.n;
  const B = products.nonVisual.length / products.n;
  const kept: Products = {
    n, category: new Int32Array(n), style: new Float32Array(n * S), nonVisual: new Float32Array(n * B), logPop: new Float32Array(n), release: new Float64Array(n),
  };
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    kept.category[k] = products.category[i];
    kept.logPop[k] = products.logPop[i];
    kept.release[k] = products.release[i];
    kept.style.set(products.style.subarray(i * S, (i + 1) * S), k * S);
    kept.nonVisual.set(products.nonVisual.subarray(i * B, (i + 1) * B), k * B);
  }
  return kept;
}

/** Release times: a random `arrivalFraction` of the products arrives uniformly over the two years, the rest is on sale from the first day. */
function drawReleases(o: GenerateOptions, products: Products, rng: Rng): Products {
  for (let i = 0; i < products.n; i++) products.release[i] = rng.next() < o.arrivalFraction ? T0 + Math.floor(SPAN * rng.next()) : T0;
  return products;
}

/** The catalogue in release order (stable), so the products on sale at any moment are a prefix of it and ids follow release order. */
function byRelease(products: Products): Products {
  const order = Array.from({ length: products.n }, (_, i) => i).sort((a, b) => products.release[a] - products.release[b] || a - b);
  return selectProducts(products, order);
}

/** The bought products (in catalogue order) and the interactions renumbered to them. */
function dropUnbought(products: Products, interactions: Dataset['interactions']): { kept: Products; interactions: Dataset['interactions'] } {
  const newIndex = new Int32Array(products.n).fill(-1);
  for (const i of interactions.items) newIndex[i] = 0;
  const bought: number[] = [];
  for (let i = 0; i < products.n; i++) if (newIndex[i] === 0) newIndex[i] = bought.push(i) - 1;
  return { kept: selectProducts(products, bought), interactions: { ...interactions, items: interactions.items.map((i) => newIndex[i]) } };
}

/**
 * Generates a data set from the ground-truth model (docs/synthetic-data.md); the same
 * (options, seed) always gives identical data. Users with 1–4 interactions are included on purpose.
 */
export function generate(spec: PresetName | GenerateOptions, seed: number, progress: Progress = silentProgress): Dataset<Matrix> {
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

/** A generated data set with what rendering images and time splits need besides it. */
export interface Generated<F> {
  dataset: Omit<Dataset, 'features'> & { features: F };
  /** The latent styles of the data set's products (for rendering their images). */
  styles: ProductStyles;
  /** Release times (seconds since the epoch, aligned with `itemIds`; no purchase precedes them). */
  release: Float64Array;
}

/** `generate`, plus the products' styles and release times. */
export function generateWithStyles(spec: PresetName | GenerateOptions, seed: number, progress: Progress = silentProgress): Generated<Matrix> {
  const { generated, products, featureRng, o } = generateInteractions(spec, seed, progress);
  return { ...generated, dataset: { ...generated.dataset, features: imageFeatures(o, products, featureRng, progress) } };
}

/**
 * `generateWithStyles` with features.npy computed while it is written (`writeDataset`), one block of products at a
 * time, in `dtype`: the same data set, for catalogues whose feature matrix does not fit in memory (`xl`).
 */
export function generateStreamed(spec: PresetName | GenerateOptions, seed: number, dtype: NpyDtype, progress: Progress = silentProgress): Generated<StreamedFeatures> {
  const { generated, products, featureRng, o } = generateInteractions(spec, seed, progress);
  const features = { rows: products.n, cols: o.featureDim, npy: () => featureNpy(o, products, featureRng, dtype, progress) };
  return { ...generated, dataset: { ...generated.dataset, features } };
}

/** Everything but the image features, and what drawing them needs. */
function generateInteractions(spec: PresetName | GenerateOptions, seed: number, progress: Progress): { generated: Generated<null>; products: Products; featureRng: Rng; o: GenerateOptions } {
  const o = resolveOptions(spec);
  validate(o);
  const rng = new Rng(seed);
  const productRng = rng.fork(1);
  const userRng = rng.fork(2);
  const featureRng = rng.fork(3);
  const purchaseRng = rng.fork(4);
  // Light users buy 2.1 items on average (see drawActivity).
  const allPurchases = o.ratings + 2.1 * Math.round(o.users * o.extraUsersFraction);
  // Release times come from a stream of their own, so that every other draw stays as before they existed.
  const products = byRelease(catalogueSize(o, productRng, rng.fork(5), allPurchases));
  const activity = drawActivity(o, userRng, products.n);
  const order = userRng.permutation(activity.length); // interleave light users with the others
  const counts = Int32Array.from(order, (k) => activity[k]);
  const users = truthUsers(o, userRng, counts.length);
  const drawn = o.candidates
    ? drawConsideredPurchases(o, users, products, counts, purchaseRng, progress)
    : drawPurchases(o, users, truthItems(o, products), products, counts, purchaseRng, progress);
  // Products nobody bought are not part of the data set (Table 1 counts bought products);
  // dropping them before drawing images keeps files and memory at the size of the real catalogue.
  const { kept, interactions } = dropUnbought(products, drawn);
  const itemIds = Array.from({ length: kept.n }, (_, i) => paddedId('P', i, kept.n));
  const styleScale = 1 / Math.hypot(o.categorySpread, o.withinCategorySpread);
  const styles = { category: kept.category, categories: o.categories, style: kept.style.map((v) => v * styleScale), styleDim: o.styleDim };
  const dataset = {
    userIds: Array.from({ length: counts.length }, (_, u) => paddedId('U', u, counts.length)),
    itemIds,
    items: itemIds.map((_, i) => ({ title: `${o.categories[kept.category[i]]} item ${i + 1}`, category: o.categories[kept.category[i]], imageUrl: '' })),
    interactions,
    features: null,
    truth: { users, items: truthItems(o, kept) },
  };
  return { generated: { dataset, styles, release: kept.release }, products: kept, featureRng, o };
}
