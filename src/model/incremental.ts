// Incremental retraining (`vasg train --init-from MODEL`): training starts from a previous VASG model instead of
// random vectors, and runs a shorter schedule. Known users and products keep their vectors; new products start
// where serving would place them (the encoder on their image features), new users at the mean of their products
// (as `vasg serve` folds a user in), so the first walks already see a sensible space.
import { ConfigError } from '../errors.js';
import type { Matrix, Split } from '../data/types.js';
import { encodeRows } from './encoder.js';
import { featureRows } from './matrix.js';
import type { TrainConfig } from './config.js';
import type { StartingPoint } from './train.js';
import type { VasgModel } from './vasg-model.js';

/** What the model's shape fixes: these options are taken from the previous model, never from the flags. */
export const SHAPE_KEYS = ['dim', 'hidden', 'decoder', 'visual', 'minMaxScale', 'scoring', 'encoderObjective', 'calibrateCold'] as const;

/**
 * The shorter schedule of an incremental run, used where a flag does not say otherwise: one walk per node at a lower
 * skip-gram rate (the vectors are already trained; the full rate scatters them), five more from every user and product
 * of the new purchases (what the previous model never saw is what needs training), then half the ranking epochs at
 * twice the rate: the ranking stage is what brings the quality back, so there E moves in all I columns (with the
 * features' principal subspace the replay's Recall@20 gap on `sparse` was 6.1 %, against 4.7 %). Chosen on the replay
 * experiment (docs/shop-loop.md).
 */
export const INCREMENTAL_SCHEDULE: Partial<TrainConfig> = { walksPerNode: 1, newWalksPerNode: 5, skipgramLr: 0.01, rankEpochs: 15, rankLr: 0.1, rankSubspace: 0 };

/** How the starting point was assembled, for the training summary. */
export interface StartReport {
  keptUsers: number;
  newUsers: number;
  keptItems: number;
  newItems: number;
}

/**
 * The config of an incremental run: the previous model's shape, the incremental schedule where no flag was given,
 * the flags otherwise. A shape flag that disagrees with the model is refused by name.
 */
export function incrementalConfig(previous: VasgModel, explicit: Partial<TrainConfig>, resolve: (o: Partial<TrainConfig>) => TrainConfig): TrainConfig {
  const shape: Partial<TrainConfig> = {};
  for (const key of SHAPE_KEYS) {
    const theirs = previous.config[key];
    if (key in explicit && JSON.stringify(explicit[key]) !== JSON.stringify(theirs)) {
      throw new ConfigError(`--init-from: ${key} is ${JSON.stringify(explicit[key])} but the model was trained with ${JSON.stringify(theirs)}; ` +
        'an incremental run keeps the model\'s shape (drop the flag, or train from scratch)', key);
    }
    (shape as Record<string, unknown>)[key] = theirs;
  }
  return resolve({ ...INCREMENTAL_SCHEDULE, ...explicit, ...shape });
}

/** Initial vectors for every user and product of `split`, and the previous decoder and E. */
export function startingPoint(previous: VasgModel, split: Split, config: TrainConfig): { start: StartingPoint; report: StartReport } {
  if (previous.method !== 'vasg') throw new ConfigError(`--init-from: the model is a ${previous.method} model; incremental training needs a VASG model`);
  const { parts } = previous;
  if (!parts.encoder) throw new ConfigError('--init-from: the model has no encoder to place new products with');
  if (parts.featureDim !== split.features.cols) {
    throw new ConfigError(`--init-from: the model was trained on ${parts.featureDim}-dimensional image features, the data has ${split.features.cols}`);
  }
  const dim = config.dim;
  const items = itemStart(previous, split, dim);
  const users = new Float32Array(split.userIds.length * dim);
  const userRow = new Map(parts.userIds.map((id, k) => [id, k]));
  const known = split.userIds.map((id) => userRow.get(id) ?? -1);
  known.forEach((row, u) => row >= 0 && users.set(parts.users.data.subarray(row * dim, (row + 1) * dim), u * dim));
  const counts = new Int32Array(split.userIds.length);
  const { users: pairUsers, items: pairItems } = split.train;
  for (let e = 0; e < pairUsers.length; e++) {
    const u = pairUsers[e];
    if (known[u] >= 0) continue;
    counts[u]++;
    for (let d = 0; d < dim; d++) users[u * dim + d] += items.matrix.data[pairItems[e] * dim + d];
  }
  counts.forEach((n, u) => {
    if (n > 0) for (let d = 0; d < dim; d++) users[u * dim + d] /= n;
  });
  const newUsers = known.filter((row) => row < 0).length;
  const visual = config.visual && config.encoderObjective === 'joint' && parts.encoder.network.sizes.length === 2 ? parts.encoder.network.getParams() : null;
  return {
    start: {
      users: { data: users, rows: split.userIds.length, cols: dim },
      items: items.matrix,
      decoder: parts.decoder?.getParams() ?? null,
      visual,
      // Only the joint encoder lets the decoder rest: an MLP encoder (regress, autoencoder) is trained through it.
      freezeDecoder: config.encoderObjective === 'joint',
      // Refitting the similar-items distance costs more than the rest of an incremental run (≈ 13 of 15 s on `small`);
      // the previous one places the products of this run as serving places products added to it.
      similarProjection: config.similar === 'metric' ? parts.similarSpace?.projection ?? null : null,
      touched: touchedByNewPairs(previous, split, known),
    },
    report: { keptUsers: split.userIds.length - newUsers, newUsers, keptItems: split.itemIds.length - items.added, newItems: items.added },
  };
}

/**
 * The users and products of every training pair the previous model was not trained on (its per-user purchase lists):
 * new users, known users' new purchases, and the products bought in them, newly bought ones included.
 */
function touchedByNewPairs(previous: VasgModel, split: Split, known: number[]): { users: Uint8Array; items: Uint8Array } {
  const { seenIndptr, seenIndices, itemIds } = previous.parts;
  const itemRow = new Map(itemIds.map((id, k) => [id, k]));
  const previousRow = split.itemIds.map((id) => itemRow.get(id) ?? -1);
  const users = new Uint8Array(split.userIds.length);
  const items = new Uint8Array(split.itemIds.length);
  const { users: pairUsers, items: pairItems } = split.train;
  for (let e = 0; e < pairUsers.length; e++) {
    const u = known[pairUsers[e]];
    const i = previousRow[pairItems[e]];
    if (u >= 0 && i >= 0 && sortedIncludes(seenIndices, seenIndptr[u], seenIndptr[u + 1], i)) continue;
    users[pairUsers[e]] = 1;
    items[pairItems[e]] = 1;
  }
  return { users, items };
}

/** Binary search for `value` in the sorted range [from, to) of `list`. */
function sortedIncludes(list: Int32Array, from: number, to: number, value: number): boolean {
  let lo = from, hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo < to && list[lo] === value;
}

/** Known products keep their vectors; new ones are M(f), as serving embeds an added product. */
function itemStart(previous: VasgModel, split: Split, dim: number): { matrix: Matrix; added: number } {
  const { parts } = previous;
  const row = new Map(parts.itemIds.map((id, k) => [id, k]));
  const data = new Float32Array(split.itemIds.length * dim);
  const added: number[] = [];
  split.itemIds.forEach((id, i) => {
    const k = row.get(id);
    if (k === undefined) added.push(i);
    else data.set(parts.items.data.subarray(k * dim, (k + 1) * dim), i * dim);
  });
  if (added.length > 0) {
    const embedded = encodeRows(parts.encoder!, featureRows(split.features, previous.config.minMaxScale), added);
    added.forEach((i, r) => data.set(embedded.data.subarray(r * dim, (r + 1) * dim), i * dim));
  }
  return { matrix: { data, rows: split.itemIds.length, cols: dim }, added: added.length };
}
