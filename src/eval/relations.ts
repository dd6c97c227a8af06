// Table 3 (§4.3, "Identifying Product Relationships"): can a product representation tell
// co-purchased pairs R from random pairs Q (|R| = |Q|) by "similarity > t"? The threshold t is
// chosen on a validation half of R ∪ Q and the accuracy is reported on the other, held-out half.
//
// Pairs use warm products only. R comes from the training interactions, so it can only hold warm
// products; drawing Q from all products would put every cold product in Q alone, and a method
// could then score by warmth (VASG's cold rows come from the encoder, not from training) instead
// of by relation. Note that VASG's embeddings were trained on the graph that contains these
// co-purchases, as in the paper; IBR is trained with the evaluation pairs left out (see ibr.ts).
import type { Features, Split } from '../data/types.js';
import { Rng } from '../data/random.js';
import { normalizeRows } from '../model/matrix.js';
import type { VasgModel } from '../model/vasg-model.js';
import { coPurchasedPairs, pairKey, pairScores, type ItemSimilarity, type PairSimilarity } from '../core/pairs.js';
import { ExactRetriever } from '../search/exact.js';

export { coPurchasedPairs, pairKey, pairScores, type ItemSimilarity, type PairSimilarity };

/** Product pairs (first[k], second[k]) with labels: related[k] = 1 for R, 0 for Q. */
export interface RelationPairs {
  first: Int32Array;
  second: Int32Array;
  related: Uint8Array;
  /** 1 where the pair is in the validation part (threshold choice), 0 for the held-out part. */
  validation: Uint8Array;
}

export interface RelationOptions {
  /** Upper bound on |R| (= |Q|): co-purchased pairs are sampled uniformly without replacement. */
  pairs: number;
  /** Fraction of R ∪ Q (stratified by label) used to choose the threshold. */
  validationFraction: number;
  seed: number;
}

export const defaultRelationOptions: RelationOptions = { pairs: 10000, validationFraction: 0.5, seed: 1 };

export interface RelationAccuracy {
  /** Accuracy of "similarity > threshold" on the held-out part. */
  accuracy: number;
  threshold: number;
  /** Best accuracy on the validation part (the one that chose the threshold). */
  validationAccuracy: number;
  validationPairs: number;
  heldOutPairs: number;
}

/**
 * R: up to `pairs` co-purchased training pairs, uniformly; Q: as many random pairs of distinct warm
 * products that no user bought together in training. Each label is split validation/held-out by
 * `validationFraction`. Deterministic for the seed.
 */
export function buildRelationPairs(split: Split, options: Partial<RelationOptions> = {}): RelationPairs {
  const o = { ...defaultRelationOptions, ...options };
  if (!Number.isInteger(o.pairs) || o.pairs < 1) throw new Error(`relations: pairs must be a positive integer, got ${o.pairs}`);
  if (!(o.validationFraction > 0 && o.validationFraction < 1)) {
    throw new Error(`relations: validationFraction must be in (0, 1), got ${o.validationFraction}`);
  }
  const rng = new Rng(o.seed);
  const copurchased = coPurchasedPairs(split);
  const all = Float64Array.from(copurchased);
  const n = Math.min(o.pairs, all.length);
  if (n === 0) throw new Error('relations: no two products were bought by the same user in training');
  // Partial Fisher–Yates: the first n entries are a uniform sample without replacement.
  for (let k = 0; k < n; k++) {
    const j = k + rng.int(all.length - k);
    const tmp = all[k];
    all[k] = all[j];
    all[j] = tmp;
  }
  const warm: number[] = [];
  for (let i = 0; i < split.warm.length; i++) if (split.warm[i]) warm.push(i);
  const first = new Int32Array(2 * n);
  const second = new Int32Array(2 * n);
  const related = new Uint8Array(2 * n);
  for (let k = 0; k < n; k++) {
    first[k] = Math.floor(all[k] / 67108864);
    second[k] = all[k] % 67108864;
    related[k] = 1;
  }
  const negatives = new Set<number>();
  const maxTries = 100 * n + 1000;
  for (let tries = 0; negatives.size < n; tries++) {
    if (tries > maxTries) throw new Error(`relations: could not draw ${n} never-co-purchased pairs among ${warm.length} warm products`);
    const i = warm[rng.int(warm.length)];
    const j = warm[rng.int(warm.length)];
    if (i === j) continue;
    const key = pairKey(i, j);
    if (copurchased.has(key) || negatives.has(key)) continue;
    negatives.add(key);
    first[n + negatives.size - 1] = i;
    second[n + negatives.size - 1] = j;
  }
  const validation = new Uint8Array(2 * n);
  for (const offset of [0, n]) {
    const order = rng.permutation(n);
    const cut = Math.round(o.validationFraction * n);
    for (let k = 0; k < cut; k++) validation[offset + order[k]] = 1;
  }
  return { first, second, related, validation };
}

/**
 * The threshold maximising the accuracy of "score > t" on the given scores and labels (ties between
 * thresholds: the first in ascending order). Candidates: below all scores, and midpoints between
 * consecutive distinct scores.
 */
export function bestThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): { threshold: number; accuracy: number } {
  const n = scores.length;
  if (n === 0) throw new Error('relations: no pairs to choose a threshold on');
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  for (let k = 0; k < n; k++) positives += labels[k] ? 1 : 0;
  // Threshold below everything: all predicted related.
  let correct = positives;
  let best = correct;
  let threshold = scores[order[0]] - 1;
  for (let k = 0; k < n; k++) {
    // Moving the threshold just above scores[order[k]] predicts order[k] unrelated.
    correct += labels[order[k]] ? -1 : 1;
    const next = k + 1 < n ? scores[order[k + 1]] : Infinity;
    if (next === scores[order[k]]) continue;
    if (correct > best) {
      best = correct;
      threshold = next === Infinity ? scores[order[k]] + 1 : (scores[order[k]] + next) / 2;
    }
  }
  return { threshold, accuracy: best / n };
}

/** Chooses t on the validation pairs, reports the accuracy of "similarity > t" on the held-out pairs. */
export function relationAccuracy(similarity: PairSimilarity | ItemSimilarity, pairs: RelationPairs): RelationAccuracy {
  const scores = (typeof similarity === 'function' ? similarity : pairScores(similarity))(pairs.first, pairs.second);
  if (scores.length !== pairs.first.length) throw new Error(`relations: similarity returned ${scores.length} scores for ${pairs.first.length} pairs`);
  const valScores: number[] = [];
  const valLabels: number[] = [];
  let heldOut = 0;
  let correct = 0;
  for (let k = 0; k < scores.length; k++) {
    if (pairs.validation[k]) {
      valScores.push(scores[k]);
      valLabels.push(pairs.related[k]);
    }
  }
  const { threshold, accuracy: validationAccuracy } = bestThreshold(valScores, valLabels);
  for (let k = 0; k < scores.length; k++) {
    if (pairs.validation[k]) continue;
    heldOut++;
    if ((scores[k] > threshold ? 1 : 0) === pairs.related[k]) correct++;
  }
  return { accuracy: heldOut ? correct / heldOut : NaN, threshold, validationAccuracy, validationPairs: valScores.length, heldOutPairs: heldOut };
}

/** Cosine similarity between rows of a product matrix. */
export function cosineSimilarity(vectors: Features): ItemSimilarity {
  const unit = normalizeRows(vectors);
  return { queries: unit, items: unit };
}

/** VASG: what the model's similar items rank by (its similar-items space, or the embeddings' cosine as in §4.3). */
export function vasgSimilarity(model: VasgModel): ItemSimilarity {
  return model.itemSimilarity();
}

/** INN: cosine between the raw image features. */
export function innSimilarity(split: Split): ItemSimilarity {
  return cosineSimilarity(split.features);
}

/**
 * Held-out co-purchases, the item-to-item top-k task ("customers who bought this also bought"): for each user with a
 * test product t, the pairs (t, q) for q among the user's training products, q ≠ t, that no user bought together in
 * training. No model trains on them (t's test purchase is never in training). Per anchor t, `targets` holds the
 * distinct q over all of t's test buyers; `anchors` is sorted, warm and cold alike.
 */
export interface HeldOutCoPurchases {
  anchors: Int32Array;
  targets: Int32Array[];
}

export function heldOutCoPurchases(split: Split): HeldOutCoPurchases {
  const bought: number[][] = Array.from({ length: split.userIds.length }, () => []);
  for (let e = 0; e < split.train.users.length; e++) bought[split.train.users[e]].push(split.train.items[e]);
  const trained = coPurchasedPairs(split);
  const byAnchor = new Map<number, Set<number>>();
  for (let k = 0; k < split.test.users.length; k++) {
    const t = split.test.items[k];
    for (const q of bought[split.test.users[k]]) {
      if (q === t || trained.has(pairKey(t, q))) continue;
      let set = byAnchor.get(t);
      if (!set) byAnchor.set(t, (set = new Set()));
      set.add(q);
    }
  }
  const anchors = Int32Array.from(byAnchor.keys()).sort();
  return { anchors, targets: Array.from(anchors, (t) => Int32Array.from(byAnchor.get(t)!).sort()) };
}

/** Recall@K of held-out co-purchases, averaged over warm and over cold anchors (NaN where there is none). */
export interface CoPurchaseRecall {
  k: number;
  warm: number;
  cold: number;
  warmAnchors: number;
  coldAnchors: number;
}

/**
 * For each anchor t of `heldOut`: the share of its held-out co-purchased products among the K products most similar
 * to t (t itself excluded; every other product, warm or cold, is a candidate), ranked by `similarity`; the mean over
 * the warm anchors and over the cold anchors (split.warm). One exact inner-product search for all anchors.
 */
export async function coPurchaseRecall(similarity: ItemSimilarity, split: Split, heldOut: HeldOutCoPurchases, k = 20): Promise<CoPurchaseRecall> {
  const { queries, items } = similarity;
  const { anchors, targets } = heldOut;
  const batch = new Float32Array(anchors.length * queries.cols);
  anchors.forEach((t, j) => batch.set(queries.data.subarray(t * queries.cols, (t + 1) * queries.cols), j * queries.cols));
  const top = anchors.length ? await new ExactRetriever(items).searchBatch(batch, k, { exclude: Array.from(anchors, (t) => Int32Array.of(t)) }) : [];
  const sums = { warm: 0, cold: 0 };
  const counts = { warm: 0, cold: 0 };
  top.forEach(({ rows }, j) => {
    const wanted = new Set(targets[j]);
    let hits = 0;
    for (const row of rows) if (wanted.has(row)) hits++;
    const side = split.warm[anchors[j]] ? 'warm' : 'cold';
    sums[side] += hits / wanted.size;
    counts[side]++;
  });
  return { k, warm: sums.warm / counts.warm, cold: sums.cold / counts.cold, warmAnchors: counts.warm, coldAnchors: counts.cold };
}

/** Pairs as a key set, e.g. to keep a trained baseline away from the evaluation pairs. */
export function relationPairKeys(pairs: RelationPairs): Set<number> {
  const keys = new Set<number>();
  for (let k = 0; k < pairs.first.length; k++) keys.add(pairKey(pairs.first[k], pairs.second[k]));
  return keys;
}
