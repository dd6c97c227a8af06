// Train/test split with completely cold products (paper §4.2): filter light users, choose a cold
// product set so that cold and warm test pairs are about equally many, hold out one test pair per
// user, and read/write the prepared directory (all files atomic, loading fully validated).
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { DATASET_FILES } from './dataset.js';
import type { Dataset, Features, GroundTruth, Interactions, ItemMeta, Matrix, Split, SplitSummary } from './types.js';
import { Rng } from './random.js';
import { csvError, csvLine, field, idField, numberField, readCsv, type CsvRow, type CsvTable } from './csv.js';
import { copyNpyRows, encodeFeatures, encodeNpy, readFeatures, readNpy, selectNpyRows, type NpyOnDisk } from './npy.js';
import { isHalf, selectFeatureRows } from './features.js';
import { openWrittenDirectory, writeDirectoryAtomic, type FileData } from './atomic.js';
import { silentProgress, type Progress } from '../progress.js';
import { DEFAULT_EVENT_TYPE, EventTypeCollector, selectEvents, typesOf } from './events.js';

/** "balanced": cold set sized so that T_cold ≈ T_warm; { fraction }: that fraction of products is cold. */
export type ColdPolicy = 'balanced' | { fraction: number };

export interface SplitOptions {
  /** Users with fewer interactions are removed first (paper: 5). */
  minInteractions?: number;
  seed: number;
  coldPolicy?: ColdPolicy;
}

/** train.csv's `event_types` field: a pair's merged event types, "purchase|view". */
const EVENT_TYPES_SEPARATOR = '|';

export const SPLIT_FILES = {
  users: 'users.csv',
  items: 'items.csv',
  features: 'features.npy',
  train: 'train.csv',
  test: 'test.csv',
  truthUsers: 'truth_users.npy',
  truthItems: 'truth_items.npy',
  summary: 'summary.json',
} as const;

/** Parses a --cold value: "balanced" or a fraction in (0, 1). */
export function parseColdPolicy(text: string): ColdPolicy {
  if (text === 'balanced') return 'balanced';
  const fraction = Number(text);
  if (!(fraction > 0 && fraction < 1)) throw new Error(`cold policy: expected "balanced" or a fraction in (0, 1), found ${JSON.stringify(text)}`);
  return { fraction };
}

function describePolicy(policy: ColdPolicy): string {
  return policy === 'balanced' ? 'balanced' : `fraction:${policy.fraction}`;
}

/** Interactions grouped by user: positions into the data set's interaction arrays. */
export interface ByUser {
  indptr: Int32Array;
  rows: Int32Array;
}

export function groupByUser(users: Int32Array, nUsers: number, keep: (k: number) => boolean): ByUser {
  const indptr = new Int32Array(nUsers + 1);
  for (let k = 0; k < users.length; k++) if (keep(k)) indptr[users[k] + 1]++;
  for (let u = 0; u < nUsers; u++) indptr[u + 1] += indptr[u];
  const fill = indptr.slice(0, nUsers);
  const rows = new Int32Array(indptr[nUsers]);
  for (let k = 0; k < users.length; k++) if (keep(k)) rows[fill[users[k]]++] = k;
  return { indptr, rows };
}

/**
 * Length of the prefix of `rank` order to make cold. Balanced: the smallest p for which users with
 * both a cold and a warm interaction (→ cold test pairs) are at least as many as users with no cold
 * interaction (→ warm test pairs); users with only cold interactions are dropped either way.
 */
function coldPrefix(policy: ColdPolicy, nItems: number, minRank: Int32Array, maxRank: Int32Array, users: number[]): number {
  if (policy !== 'balanced') return Math.min(nItems, Math.max(1, Math.round(policy.fraction * nItems)));
  // minBelow[p] = #users with minRank < p, maxBelow[p] = #users with maxRank < p (cumulative histograms).
  const minBelow = new Int32Array(nItems + 1);
  const maxBelow = new Int32Array(nItems + 1);
  for (const u of users) {
    minBelow[minRank[u] + 1]++;
    maxBelow[maxRank[u] + 1]++;
  }
  for (let p = 1; p <= nItems; p++) {
    minBelow[p] += minBelow[p - 1];
    maxBelow[p] += maxBelow[p - 1];
  }
  for (let p = 1; p <= nItems; p++) {
    const coldAndWarm = minBelow[p] - maxBelow[p];
    const noCold = users.length - minBelow[p];
    if (coldAndWarm >= noCold) return p;
  }
  return nItems;
}

/** Data that cannot be trained on stops here, with what is missing, not later as null metrics (also for production training). */
export function checkNotDegenerate(dataset: Dataset<Features | NpyOnDisk>): void {
  if (dataset.itemIds.length === 0) throw new InputError(`${DATASET_FILES.items}: the catalogue lists no products`, DATASET_FILES.items);
  if (dataset.features.cols === 0) throw new InputError(`${DATASET_FILES.features}: features have width 0; each product needs at least one feature value`, DATASET_FILES.features);
  if (dataset.interactions.users.length === 0) throw new InputError(`${DATASET_FILES.interactions}: has no interactions (only a header?); nothing to train on`, DATASET_FILES.interactions);
}

/** Ranking (and its negatives) needs at least two products with training interactions. */
export function checkEnoughWarm(stage: string, warmItems: number): void {
  if (warmItems < 2) throw new InputError(`${stage}: only ${warmItems} product(s) left for training; at least 2 are needed to rank`, DATASET_FILES.interactions);
}

/** Users with at least `minInteractions` interactions; counts the others into `filtered`. */
export function lightUserFilter(dataset: Dataset<unknown>, minInteractions: number, filtered: Record<string, number>): (u: number) => boolean {
  const nUsers0 = dataset.userIds.length;
  const userCount = new Int32Array(nUsers0);
  for (const u of dataset.interactions.users) userCount[u]++;
  const activeUser = (u: number) => userCount[u] >= minInteractions;
  filtered.usersBelowMinInteractions = 0;
  filtered.interactionsOfUsersBelowMin = 0;
  for (let u = 0; u < nUsers0; u++) {
    if (!activeUser(u)) {
      filtered.usersBelowMinInteractions++;
      filtered.interactionsOfUsersBelowMin += userCount[u];
    }
  }
  if (filtered.usersBelowMinInteractions === nUsers0) {
    throw new ConfigError(`--min-interactions ${minInteractions} removed all ${nUsers0} users (the most active has ${userCount.reduce((a, b) => Math.max(a, b), 0)} interactions); lower --min-interactions`);
  }
  return activeUser;
}

/** Removes light users and unused items, chooses cold products and holds out one test pair per user. */
export function prepareSplit<F extends Features | NpyOnDisk>(dataset: Dataset<F>, options: SplitOptions, progress: Progress = silentProgress): Split<F> {
  const minInteractions = options.minInteractions ?? 5;
  const policy = options.coldPolicy ?? 'balanced';
  const rng = new Rng(options.seed);
  const { interactions } = dataset;
  const nUsers0 = dataset.userIds.length;
  const nItems0 = dataset.itemIds.length;
  const filtered: Record<string, number> = {};
  checkNotDegenerate(dataset);
  progress.start('split', 4);

  // 1. Light users.
  const activeUser = lightUserFilter(dataset, minInteractions, filtered);
  const byUser = groupByUser(interactions.users, nUsers0, (k) => activeUser(interactions.users[k]));

  // 2. Items nobody (remaining) bought.
  const itemCount = new Int32Array(nItems0);
  for (const k of byUser.rows) itemCount[interactions.items[k]]++;
  const keptItems: number[] = [];
  for (let i = 0; i < nItems0; i++) if (itemCount[i] > 0) keptItems.push(i);
  filtered.itemsWithoutInteractions = nItems0 - keptItems.length;
  if (keptItems.length < 2) {
    throw new ConfigError(`only ${keptItems.length} product(s) bought by the ${nUsers0 - filtered.usersBelowMinInteractions} users left after --min-interactions ${minInteractions}; a split needs at least 2`);
  }
  progress.update(1, 'filtered');

  // 3. Cold products: a prefix of a seeded random order of the kept items.
  const rank = new Int32Array(nItems0).fill(-1);
  rng.permutation(keptItems.length).forEach((position, j) => (rank[keptItems[position]] = j));
  const minRank = new Int32Array(nUsers0).fill(keptItems.length);
  const maxRank = new Int32Array(nUsers0).fill(-1);
  const activeUsers: number[] = [];
  for (let u = 0; u < nUsers0; u++) {
    if (byUser.indptr[u + 1] === byUser.indptr[u]) continue;
    activeUsers.push(u);
    for (let p = byUser.indptr[u]; p < byUser.indptr[u + 1]; p++) {
      const r = rank[interactions.items[byUser.rows[p]]];
      if (r < minRank[u]) minRank[u] = r;
      if (r > maxRank[u]) maxRank[u] = r;
    }
  }
  const prefix = coldPrefix(policy, keptItems.length, minRank, maxRank, activeUsers);
  const isCold = (item: number) => rank[item] < prefix;
  progress.update(2, `${prefix} cold products`);

  // 4. Test pairs. inTrain marks interaction positions kept for training.
  const inTrain = new Uint8Array(interactions.users.length);
  const testItem = new Int32Array(nUsers0).fill(-1);
  const keptUser = new Uint8Array(nUsers0);
  Object.assign(filtered, { usersWithoutWarmInteraction: 0, interactionsOfUsersWithoutWarmInteraction: 0, otherColdInteractionsRemoved: 0, usersWithoutTestItem: 0 });
  const trainCount = new Int32Array(nItems0);
  const warmTestCandidates: number[] = [];
  const judged = testablePairs(interactions);
  for (const u of activeUsers) {
    const positions = byUser.rows.subarray(byUser.indptr[u], byUser.indptr[u + 1]);
    if (maxRank[u] < prefix) {
      // Only cold products: nothing would be left to train this user on.
      filtered.usersWithoutWarmInteraction++;
      filtered.interactionsOfUsersWithoutWarmInteraction += positions.length;
      continue;
    }
    keptUser[u] = 1;
    const cold = Array.from(positions).filter((k) => isCold(interactions.items[k]) && judged(k));
    for (const k of positions) {
      if (!isCold(interactions.items[k])) {
        inTrain[k] = 1;
        trainCount[interactions.items[k]]++;
      }
    }
    if (cold.length > 0) {
      testItem[u] = interactions.items[cold[rng.int(cold.length)]];
      filtered.otherColdInteractionsRemoved += cold.length - 1;
    } else {
      warmTestCandidates.push(u);
    }
  }
  // Warm test items must keep another training interaction; users are served in random order so
  // that no one is favoured when several compete for the last training interaction of an item.
  rng.shuffle(warmTestCandidates);
  for (const u of warmTestCandidates) {
    const positions = byUser.rows.subarray(byUser.indptr[u], byUser.indptr[u + 1]);
    const eligible = positions.length >= 2 ? Array.from(positions).filter((k) => trainCount[interactions.items[k]] >= 2 && judged(k)) : [];
    if (eligible.length === 0) {
      filtered.usersWithoutTestItem++;
      continue;
    }
    const k = eligible[rng.int(eligible.length)];
    inTrain[k] = 0;
    trainCount[interactions.items[k]]--;
    testItem[u] = interactions.items[k];
  }
  progress.update(3, 'test pairs');

  // 5. Re-index and assemble.
  const split = assemble(dataset, keptUser, keptItems, inTrain, testItem, trainCount);
  filtered.nonColdItemsWithoutTraining = keptItems.filter((i) => !isCold(i) && trainCount[i] === 0).length;
  split.summary = {
    ...splitCounts(split),
    filtered,
    seed: options.seed,
    minInteractions,
    coldPolicy: describePolicy(policy),
    split: 'random',
  };
  checkEnoughWarm('prepare', split.summary.warmItems);
  if (split.test.users.length === 0) throw new Error('prepare: no user could keep a test product (every user has too few interactions); nothing to evaluate');
  // Warm and cold AUC are the split's purpose: one of them without pairs would print as "-" after minutes of training.
  for (const kind of ['warm', 'cold'] as const) {
    const pairs = kind === 'warm' ? split.summary.testWarm : split.summary.testCold;
    const flag = `--cold ${policy === 'balanced' ? 'balanced' : policy.fraction}`;
    if (pairs === 0) throw new ConfigError(`prepare: ${flag} leaves no ${kind} test pairs, so ${kind} AUC could not be measured; try ${kind === 'warm' ? 'a smaller' : 'a larger'} --cold fraction or --cold balanced`);
  }
  progress.finish(`${split.summary.users} users, ${split.summary.trainPairs} train pairs, test ${split.summary.testWarm} warm / ${split.summary.testCold} cold`);
  return split;
}

/** The counts every summary.json carries, read off an assembled split. */
export function splitCounts(split: Split<Features | NpyOnDisk>): Pick<SplitSummary, 'users' | 'items' | 'warmItems' | 'coldItems' | 'trainPairs' | 'testWarm' | 'testCold' | 'featureDim'> {
  const warmItems = split.warm.reduce((sum, w) => sum + w, 0);
  const testWarm = split.test.items.reduce((sum, i) => sum + split.warm[i], 0);
  return {
    users: split.userIds.length, items: split.itemIds.length, warmItems, coldItems: split.warm.length - warmItems,
    trainPairs: split.train.users.length, testWarm, testCold: split.test.users.length - testWarm, featureDim: split.features.cols,
  };
}

/** The features of the listed products: copied rows (in their storage type), or a row selection of a file read when written. */
function selectFeatures<F extends Features | NpyOnDisk>(features: F, rows: number[]): F {
  return ('file' in features ? selectNpyRows(features, rows) : selectFeatureRows(features, rows)) as F;
}

function selectRows(matrix: Matrix, rows: number[]): Matrix {
  if (rows.length === matrix.rows) return matrix; // rows is increasing, so this is the identity
  const data = new Float32Array(rows.length * matrix.cols);
  rows.forEach((r, k) => data.set(matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols), k * matrix.cols));
  return { data, rows: rows.length, cols: matrix.cols };
}

/**
 * Which pairs may be test pairs: with event types, only purchases (a recommender is judged on what users buy;
 * views and carts train but are never the held-out answer); without, every pair.
 */
function testablePairs(interactions: Interactions): (k: number) => boolean {
  const events = interactions.events;
  if (!events) return () => true;
  const bit = events.typeNames.indexOf(DEFAULT_EVENT_TYPE);
  return (k) => bit >= 0 && ((events.types[k] >>> bit) & 1) === 1;
}

/** Re-indexes kept users/items; a test pair is cold exactly when its item has no training interaction. */
export function assemble<F extends Features | NpyOnDisk>(dataset: Dataset<F>, keptUser: Uint8Array, keptItems: number[], inTrain: Uint8Array,
  testItem: Int32Array, trainCount: Int32Array): Split<F> {
  const users: number[] = [];
  const newUser = new Int32Array(keptUser.length).fill(-1);
  keptUser.forEach((keep, u) => {
    if (keep) {
      newUser[u] = users.length;
      users.push(u);
    }
  });
  const newItem = new Int32Array(dataset.itemIds.length).fill(-1);
  keptItems.forEach((i, k) => (newItem[i] = k));
  const src = dataset.interactions;
  const positions: number[] = [];
  for (let k = 0; k < inTrain.length; k++) if (inTrain[k]) positions.push(k);
  const train: Interactions = {
    users: Int32Array.from(positions, (k) => newUser[src.users[k]]),
    items: Int32Array.from(positions, (k) => newItem[src.items[k]]),
    ratings: Float32Array.from(positions, (k) => src.ratings[k]),
    timestamps: Float64Array.from(positions, (k) => src.timestamps[k]),
  };
  const events = selectEvents(src.events, positions);
  if (events) train.events = events;
  const testUsers = users.filter((u) => testItem[u] >= 0);
  const split: Split<F> = {
    userIds: users.map((u) => dataset.userIds[u]),
    itemIds: keptItems.map((i) => dataset.itemIds[i]),
    items: keptItems.map((i) => dataset.items[i]),
    warm: Uint8Array.from(keptItems, (i) => (trainCount[i] > 0 ? 1 : 0)),
    train,
    test: { users: Int32Array.from(testUsers, (u) => newUser[u]), items: Int32Array.from(testUsers, (u) => newItem[testItem[u]]) },
    features: selectFeatures(dataset.features, keptItems),
    summary: undefined as unknown as SplitSummary, // filled in by prepareSplit
  };
  if (dataset.truth) split.truth = { users: selectRows(dataset.truth.users, users), items: selectRows(dataset.truth.items, keptItems) };
  if (dataset.featureDtype) split.featureDtype = dataset.featureDtype;
  return split;
}

function formatNumber(value: number): string {
  return Number.isNaN(value) ? '' : String(value);
}

/** Writes a prepared split directory (see SPLIT_FILES); every file atomically. */
export function writeSplit(dir: string, split: Split<Features | NpyOnDisk>): void {
  const { features } = split;
  const files: Array<[string, FileData | (() => FileData)]> = [
    [SPLIT_FILES.users, () => csvLine(['user_id']) + split.userIds.map((id) => csvLine([id])).join('')],
    [SPLIT_FILES.items, () => csvLine(['item_id', 'title', 'category', 'image_url', 'cold']) +
      split.itemIds.map((id, i) => csvLine([id, split.items[i].title, split.items[i].category, split.items[i].imageUrl, split.warm[i] ? 0 : 1])).join('')],
    [SPLIT_FILES.features, 'file' in features ? () => copyNpyRows(features, split.featureDtype ?? 'float32', split.itemIds) : encodeFeatures(features, split.featureDtype, split.itemIds)],
    [SPLIT_FILES.train, () => {
      const { users, items, ratings, timestamps, events } = split.train;
      const lines = [csvLine(['user_id', 'item_id', 'rating', 'timestamp', ...(events ? ['event_types'] : [])])];
      for (let k = 0; k < users.length; k++) {
        const fields = [split.userIds[users[k]], split.itemIds[items[k]], formatNumber(ratings[k]), formatNumber(timestamps[k])];
        if (events) fields.push(typesOf(events.types[k], events.typeNames).join(EVENT_TYPES_SEPARATOR));
        lines.push(csvLine(fields));
      }
      return lines.join('');
    }],
    [SPLIT_FILES.test, () => csvLine(['user_id', 'item_id', 'cold']) +
      Array.from(split.test.users, (u, k) => csvLine([split.userIds[u], split.itemIds[split.test.items[k]], split.warm[split.test.items[k]] ? 0 : 1])).join('')],
  ];
  if (split.truth) {
    files.push([SPLIT_FILES.truthUsers, encodeNpy(split.truth.users)]);
    files.push([SPLIT_FILES.truthItems, encodeNpy(split.truth.items)]);
  }
  // summary.json last: its presence marks a complete directory for readers that check it.
  files.push([SPLIT_FILES.summary, () => JSON.stringify(split.summary, null, 2) + '\n']);
  writeDirectoryAtomic(dir, files);
}

function indexIds(table: CsvTable, column: string): { ids: string[]; index: Map<string, number>; rows: CsvRow[] } {
  const ids: string[] = [];
  const index = new Map<string, number>();
  for (const row of table.rows) {
    const id = idField(table, row, column);
    if (index.has(id)) throw csvError(table.file, row.line, `duplicate id "${id}"`, column);
    index.set(id, ids.length);
    ids.push(id);
  }
  return { ids, index, rows: table.rows };
}

function flagField(table: CsvTable, row: CsvRow, name: string): 0 | 1 {
  const raw = (field(table, row, name) ?? '').trim();
  if (raw !== '0' && raw !== '1') throw csvError(table.file, row.line, `expected 0 or 1, found ${JSON.stringify(raw)}`, name);
  return raw === '1' ? 1 : 0;
}

function lookup(table: CsvTable, row: CsvRow, name: string, index: Map<string, number>, source: string): number {
  const id = idField(table, row, name);
  const k = index.get(id);
  if (k === undefined) throw csvError(table.file, row.line, `unknown id "${id}" (not in ${source})`, name);
  return k;
}

function readTrain(file: string, users: Map<string, number>, items: Map<string, number>, warm: Uint8Array): Interactions {
  const table = readCsv(file, { required: ['user_id', 'item_id', 'rating', 'timestamp'], optional: ['event_types'] });
  const n = table.rows.length;
  const train: Interactions = { users: new Int32Array(n), items: new Int32Array(n), ratings: new Float32Array(n), timestamps: new Float64Array(n) };
  const collector = table.columns.has('event_types') ? new EventTypeCollector() : null;
  const types = new Array<number>(n).fill(0);
  table.rows.forEach((row, k) => {
    train.users[k] = lookup(table, row, 'user_id', users, SPLIT_FILES.users);
    const item = lookup(table, row, 'item_id', items, SPLIT_FILES.items);
    if (!warm[item]) throw csvError(file, row.line, `item is marked cold in ${SPLIT_FILES.items} but appears in training`, 'item_id');
    train.items[k] = item;
    train.ratings[k] = numberField(table, row, 'rating');
    const rawTime = (field(table, row, 'timestamp') ?? '').trim();
    train.timestamps[k] = rawTime === '' ? NaN : numberField(table, row, 'timestamp');
    for (const name of collector ? (field(table, row, 'event_types') ?? '').split(EVENT_TYPES_SEPARATOR) : []) {
      types[k] |= collector!.bit(name.trim(), `${file}:${row.line}`, file);
    }
  });
  if (collector) train.events = collector.result(types);
  return train;
}

function readTest(file: string, users: Map<string, number>, items: Map<string, number>, warm: Uint8Array): Split['test'] {
  const table = readCsv(file, { required: ['user_id', 'item_id', 'cold'] });
  const testUsers = new Int32Array(table.rows.length);
  const testItems = new Int32Array(table.rows.length);
  const seen = new Map<number, number>();
  table.rows.forEach((row, k) => {
    const user = lookup(table, row, 'user_id', users, SPLIT_FILES.users);
    if (seen.has(user)) throw csvError(file, row.line, `second test pair for user "${field(table, row, 'user_id')}" (first at line ${seen.get(user)}); expected at most one per user`, 'user_id');
    seen.set(user, row.line);
    const item = lookup(table, row, 'item_id', items, SPLIT_FILES.items);
    const cold = flagField(table, row, 'cold');
    if (cold !== 1 - warm[item]) throw csvError(file, row.line, `expected ${1 - warm[item]} (as in ${SPLIT_FILES.items}), found ${cold}`, 'cold');
    testUsers[k] = user;
    testItems[k] = item;
  });
  return { users: testUsers, items: testItems };
}

function readSummary(file: string): SplitSummary {
  let summary: SplitSummary;
  try {
    summary = JSON.parse(fs.readFileSync(file, 'utf8')) as SplitSummary;
  } catch (error) {
    throw new Error(`${file}: expected the JSON split summary: ${(error as Error).message}`);
  }
  for (const key of ['users', 'items', 'warmItems', 'coldItems', 'trainPairs', 'testWarm', 'testCold', 'featureDim'] as const) {
    if (!Number.isInteger(summary[key])) throw new Error(`${file}: field "${key}": expected an integer, found ${JSON.stringify(summary[key])}`);
  }
  return summary;
}

/** Checks that the files agree with summary.json (catches mixed or truncated directories). */
function checkSummary(file: string, split: Split): void {
  const actual: Partial<Record<keyof SplitSummary, number>> = splitCounts(split);
  for (const [key, value] of Object.entries(actual)) {
    const claimed = split.summary[key as keyof SplitSummary];
    if (claimed !== value) throw new Error(`${file}: field "${key}": the directory's files give ${value}, found ${JSON.stringify(claimed)}`);
  }
}

/** Loads and validates a prepared split directory written by writeSplit; float16 features stay float16 in memory. */
export function loadSplit(dir: string): Split {
  openWrittenDirectory(dir);
  const file = (name: string) => path.join(dir, name);
  if (!fs.existsSync(file(SPLIT_FILES.summary))) throw new Error(`${dir}: not a prepared data directory (no ${SPLIT_FILES.summary}); run "vasg prepare" first`);
  const summary = readSummary(file(SPLIT_FILES.summary));
  const users = indexIds(readCsv(file(SPLIT_FILES.users), { required: ['user_id'] }), 'user_id');
  const itemTable = readCsv(file(SPLIT_FILES.items), { required: ['item_id', 'title', 'category', 'image_url', 'cold'] });
  const items = indexIds(itemTable, 'item_id');
  const warm = Uint8Array.from(items.rows, (row) => 1 - flagField(itemTable, row, 'cold'));
  const meta: ItemMeta[] = items.rows.map((row) => ({
    title: field(itemTable, row, 'title') ?? '', category: field(itemTable, row, 'category') ?? '', imageUrl: field(itemTable, row, 'image_url') ?? '',
  }));
  const features = readFeatures(file(SPLIT_FILES.features));
  if (features.rows !== items.ids.length) throw new Error(`${file(SPLIT_FILES.features)}: has ${features.rows} rows but ${SPLIT_FILES.items} lists ${items.ids.length} items (rows must align)`);
  const train = readTrain(file(SPLIT_FILES.train), users.index, items.index, warm);
  const inTrain = new Uint8Array(items.ids.length);
  for (const i of train.items) inTrain[i] = 1;
  const missing = warm.findIndex((w, i) => w === 1 && inTrain[i] === 0);
  if (missing >= 0) throw new Error(`${file(SPLIT_FILES.items)}:${missing + 2}: field "cold": item "${items.ids[missing]}" is marked warm (0) but has no interaction in ${SPLIT_FILES.train}`);
  const test = readTest(file(SPLIT_FILES.test), users.index, items.index, warm);
  const split: Split = { userIds: users.ids, itemIds: items.ids, items: meta, warm, train, test, features, summary };
  if (isHalf(features)) split.featureDtype = 'float16';
  const truth = readSplitTruth(dir, users.ids.length, items.ids.length);
  if (truth) split.truth = truth;
  checkSummary(file(SPLIT_FILES.summary), split);
  return split;
}

function readSplitTruth(dir: string, nUsers: number, nItems: number): GroundTruth | undefined {
  const usersFile = path.join(dir, SPLIT_FILES.truthUsers);
  const itemsFile = path.join(dir, SPLIT_FILES.truthItems);
  const hasUsers = fs.existsSync(usersFile);
  if (hasUsers !== fs.existsSync(itemsFile)) throw new Error(`${dir}: expected both ${SPLIT_FILES.truthUsers} and ${SPLIT_FILES.truthItems} or neither`);
  if (!hasUsers) return undefined;
  const users = readNpy(usersFile);
  const items = readNpy(itemsFile);
  if (users.rows !== nUsers) throw new Error(`${usersFile}: has ${users.rows} rows, expected ${nUsers} (one per line of ${SPLIT_FILES.users})`);
  if (items.rows !== nItems) throw new Error(`${itemsFile}: has ${items.rows} rows, expected ${nItems} (one per line of ${SPLIT_FILES.items})`);
  if (users.cols !== items.cols) throw new Error(`${itemsFile}: has ${items.cols} columns but ${SPLIT_FILES.truthUsers} has ${users.cols}`);
  return { users, items };
}
