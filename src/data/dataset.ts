// The standard data set layout: interactions.csv, items.csv, features.npy (+ optional ground truth
// truth_users.npy/.csv and truth_items.npy from the generator). Loading validates everything and
// merges duplicate (user, item) pairs; writing produces the same layout atomically.
import fs from 'node:fs';
import path from 'node:path';
import type { Dataset, Features, GroundTruth, ItemMeta } from './types.js';
import { csvError, csvLine, field, idField, numberField, readCsv, type CsvRow, type CsvSpec, type CsvTable } from './csv.js';
import { checkFinite, encodeFeatures, encodeNpy, npyDtype, openNpy, readFeatures, readNpy, type NpyOnDisk } from './npy.js';
import { recoverDirectory, writeDirectoryAtomic, type FileData } from './atomic.js';
import { silentProgress, type Progress } from '../progress.js';
import { DEFAULT_EVENT_TYPE, EventTypeCollector, typesOf } from './events.js';

export const DATASET_FILES = {
  interactions: 'interactions.csv',
  items: 'items.csv',
  features: 'features.npy',
  truthUsers: 'truth_users.npy',
  truthUserIds: 'truth_users.csv',
  truthItems: 'truth_items.npy',
} as const;

export interface LoadReport {
  /** Interaction lines read (before merging duplicates). */
  lines: number;
  /** Lines that repeated an earlier (user, item) pair and were merged into it (max rating, latest timestamp). */
  mergedDuplicates: number;
  interactions: number;
  users: number;
  items: number;
  featureDim: number;
  hasTruth: boolean;
  /** Remarks such as dtype conversions. */
  notes: string[];
}

interface ItemTable {
  ids: string[];
  meta: ItemMeta[];
  index: Map<string, number>;
}

/** Columns of items.csv; `vasg embed` reads its ids in the same layout. */
export const ITEMS_CSV: CsvSpec = { required: ['item_id'], optional: ['title', 'category', 'image_url'] };

/** The `<name>.items.csv` beside an array `<name>.npy` (from `features`, `embed`): the items.csv rows its rows describe. */
export function itemsFileBeside(npy: string): string {
  return path.join(path.dirname(npy), `${path.basename(npy, '.npy')}.items.csv`);
}

function readItems(file: string): ItemTable {
  const table = readCsv(file, ITEMS_CSV);
  const ids: string[] = [];
  const meta: ItemMeta[] = [];
  const index = new Map<string, number>();
  const firstLine: number[] = [];
  for (const row of table.rows) {
    const id = idField(table, row, 'item_id');
    const previous = index.get(id);
    if (previous !== undefined) {
      throw csvError(file, row.line, `duplicate item id "${id}" (first at line ${firstLine[previous]}); each row must describe a distinct item`, 'item_id');
    }
    index.set(id, ids.length);
    firstLine.push(row.line);
    ids.push(id);
    meta.push({
      title: field(table, row, 'title') ?? '',
      category: field(table, row, 'category') ?? '',
      imageUrl: field(table, row, 'image_url') ?? '',
    });
  }
  return { ids, meta, index };
}

/** Seconds since the epoch from a number of seconds or an ISO-8601 date; NaN for an empty field. */
function parseTimestamp(table: CsvTable, row: CsvRow): number {
  const raw = (field(table, row, 'timestamp') ?? '').trim();
  if (raw.length === 0) return NaN;
  const asNumber = Number(raw);
  if (Number.isFinite(asNumber)) return asNumber;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms)) throw csvError(table.file, row.line, `expected seconds since the epoch or an ISO date, found ${JSON.stringify(raw)}`, 'timestamp');
  return ms / 1000;
}

interface UserIndex {
  ids: string[];
  index: Map<string, number>;
  /** Fixed by truth_users.csv: unknown users are errors instead of new rows. */
  fixed: boolean;
}

function readInteractions(file: string, items: ItemTable, users: UserIndex, report: LoadReport): Dataset['interactions'] {
  const table = readCsv(file, { required: ['user_id', 'item_id'], optional: ['rating', 'timestamp', 'event_type'] });
  const hasRating = table.columns.has('rating');
  const typed = table.columns.has('event_type');
  const collector = new EventTypeCollector();
  const types: number[] = [];
  const u: number[] = [];
  const it: number[] = [];
  const ratings: number[] = [];
  const times: number[] = [];
  const pairIndex = new Map<number, number>();
  for (const row of table.rows) {
    const userId = idField(table, row, 'user_id');
    const itemId = idField(table, row, 'item_id');
    const item = items.index.get(itemId);
    if (item === undefined) throw csvError(file, row.line, `unknown item "${itemId}" (not in ${DATASET_FILES.items})`, 'item_id');
    let user = users.index.get(userId);
    if (user === undefined) {
      if (users.fixed) throw csvError(file, row.line, `unknown user "${userId}" (not in ${DATASET_FILES.truthUserIds})`, 'user_id');
      user = users.ids.length;
      users.index.set(userId, user);
      users.ids.push(userId);
    }
    const rating = hasRating ? ratingField(table, row) : 1;
    const time = parseTimestamp(table, row);
    const typeBit = typed ? collector.bit(field(table, row, 'event_type')?.trim() || DEFAULT_EVENT_TYPE, `${file}:${row.line}`, file) : 1;
    // user · nItems + item stays below 2^53 for any realistic size.
    const key = user * items.ids.length + item;
    const existing = pairIndex.get(key);
    if (existing !== undefined) {
      report.mergedDuplicates += 1;
      ratings[existing] = Math.max(ratings[existing], rating);
      if (!(times[existing] >= time)) times[existing] = Number.isNaN(time) ? times[existing] : time;
      types[existing] |= typeBit;
      continue;
    }
    pairIndex.set(key, u.length);
    u.push(user);
    it.push(item);
    ratings.push(rating);
    times.push(time);
    types.push(typeBit);
  }
  report.lines = table.rows.length;
  const interactions: Dataset['interactions'] = {
    users: Int32Array.from(u),
    items: Int32Array.from(it),
    ratings: Float32Array.from(ratings),
    timestamps: Float64Array.from(times),
  };
  if (typed) interactions.events = collector.result(types);
  return interactions;
}

function readTruth(dir: string, items: ItemTable, report: LoadReport): { truth: GroundTruth; userIds: string[] } | undefined {
  const files = [DATASET_FILES.truthUsers, DATASET_FILES.truthUserIds, DATASET_FILES.truthItems].map((name) => path.join(dir, name));
  const present = files.filter((file) => fs.existsSync(file));
  if (present.length === 0) return undefined;
  if (present.length < files.length) {
    throw new Error(`${dir}: ground truth is incomplete: found ${present.map((f) => path.basename(f)).join(', ')}; expected all of ${files.map((f) => path.basename(f)).join(', ')} or none`);
  }
  const [usersNpy, usersCsv, itemsNpy] = files;
  const note = (message: string) => report.notes.push(message);
  const users = readNpy(usersNpy, note);
  const itemsTruth = readNpy(itemsNpy, note);
  const table = readCsv(usersCsv, { required: ['user_id'] });
  const userIds = table.rows.map((row) => idField(table, row, 'user_id'));
  if (users.rows !== userIds.length) throw new Error(`${usersNpy}: has ${users.rows} rows but ${usersCsv} lists ${userIds.length} users (rows must align)`);
  if (itemsTruth.rows !== items.ids.length) throw new Error(`${itemsNpy}: has ${itemsTruth.rows} rows but ${DATASET_FILES.items} lists ${items.ids.length} items (rows must align)`);
  if (users.cols !== itemsTruth.cols) throw new Error(`${itemsNpy}: has ${itemsTruth.cols} columns but ${usersNpy} has ${users.cols}; the oracle score is their dot product`);
  checkFinite(usersNpy, users);
  checkFinite(itemsNpy, itemsTruth, items.ids);
  return { truth: { users, items: itemsTruth }, userIds };
}

function userIndexFrom(ids: string[], file: string): UserIndex {
  const index = new Map<string, number>();
  ids.forEach((id, k) => {
    if (index.has(id)) throw csvError(file, k + 2, `duplicate user id "${id}"`, 'user_id');
    index.set(id, k);
  });
  return { ids, index, fixed: true };
}

/** Loads and validates a data set directory in the standard layout. */
/** Largest rating kept: stored as float32, whose range ends near 3.4e38, and weights of the walks' transitions. */
const MAX_RATING = 1e30;

/** A rating must be a finite, non-negative number that float32 holds (it weights walk transitions). */
function ratingField(table: CsvTable, row: CsvRow): number {
  const rating = numberField(table, row, 'rating');
  if (rating < 0 || rating > MAX_RATING) {
    throw csvError(table.file, row.line, `expected a rating in [0, ${MAX_RATING}], found ${rating}`, 'rating');
  }
  return rating;
}

/**
 * Loads and validates a data set. `features: 'on-disk'` leaves features.npy unread (its header and size are checked;
 * its values are checked when rows are copied from it, by `writeSplit`): for stages that only select rows.
 */
export function loadDataset(dir: string, progress?: Progress): { dataset: Dataset; report: LoadReport };
export function loadDataset(dir: string, progress: Progress, features: 'on-disk'): { dataset: Dataset<NpyOnDisk>; report: LoadReport };
export function loadDataset(dir: string, progress: Progress = silentProgress, featureMode?: 'on-disk'): { dataset: Dataset<Features | NpyOnDisk>; report: LoadReport } {
  recoverDirectory(dir);
  const report: LoadReport = { lines: 0, mergedDuplicates: 0, interactions: 0, users: 0, items: 0, featureDim: 0, hasTruth: false, notes: [] };
  progress.start(`load ${dir}`, 4);
  const items = readItems(path.join(dir, DATASET_FILES.items));
  progress.update(1, 'items');
  const featuresFile = path.join(dir, DATASET_FILES.features);
  const features = featureMode === 'on-disk' ? openNpy(featuresFile) : readFeatures(featuresFile, (message) => report.notes.push(message));
  if (features.rows !== items.ids.length) {
    throw new Error(`${featuresFile}: has ${features.rows} rows but ${DATASET_FILES.items} has ${items.ids.length} items (row i of features.npy must describe data row i of items.csv)`);
  }
  // float16 values were checked as read; float32 ones are checked here, naming the item.
  if ('data' in features) checkFinite(featuresFile, features, items.ids);
  progress.update(2, 'features');
  const truth = readTruth(dir, items, report);
  const users: UserIndex = truth ? userIndexFrom(truth.userIds, path.join(dir, DATASET_FILES.truthUserIds)) : { ids: [], index: new Map(), fixed: false };
  progress.update(3, 'truth');
  const interactions = readInteractions(path.join(dir, DATASET_FILES.interactions), items, users, report);
  Object.assign(report, {
    interactions: interactions.users.length,
    users: users.ids.length,
    items: items.ids.length,
    featureDim: features.cols,
    hasTruth: truth !== undefined,
  });
  progress.finish(`${report.users} users, ${report.items} items, ${report.interactions} interactions, ${report.mergedDuplicates} duplicates merged`);
  const dataset: Dataset<Features | NpyOnDisk> = { userIds: users.ids, itemIds: items.ids, items: items.meta, interactions, features };
  if (npyDtype(featuresFile) === 'float16') dataset.featureDtype = 'float16';
  if (truth) dataset.truth = truth.truth;
  return { dataset, report };
}

/** Formats a number for CSV; NaN (unknown) becomes an empty field. */
function formatNumber(value: number): string {
  return Number.isNaN(value) ? '' : String(value);
}

/** One line per pair; with event types, one line per (pair, type), which loading merges back into the same pair. */
function interactionsCsv(dataset: DatasetToWrite): string {
  const { users, items, ratings, timestamps, events } = dataset.interactions;
  const lines: string[] = [csvLine(['user_id', 'item_id', 'rating', 'timestamp', ...(events ? ['event_type'] : [])])];
  for (let k = 0; k < users.length; k++) {
    const fields = [dataset.userIds[users[k]], dataset.itemIds[items[k]], formatNumber(ratings[k]), formatNumber(timestamps[k])];
    if (!events) lines.push(csvLine(fields));
    else for (const type of typesOf(events.types[k], events.typeNames)) lines.push(csvLine([...fields, type]));
  }
  return lines.join('');
}

function itemsCsv(dataset: DatasetToWrite): string {
  const lines: string[] = [csvLine(['item_id', 'title', 'category', 'image_url'])];
  dataset.itemIds.forEach((id, k) => {
    const meta = dataset.items[k];
    lines.push(csvLine([id, meta.title, meta.category, meta.imageUrl]));
  });
  return lines.join('');
}

/** Features already encoded as a .npy stream, for imports too large to hold as one matrix. */
export interface StreamedFeatures {
  rows: number;
  cols: number;
  /** The whole .npy file (header first), produced while it is written. */
  npy: () => FileData;
}

/** A data set to write: its features as a matrix or as a .npy stream. */
export type DatasetToWrite = Omit<Dataset, 'features'> & { features: Features | StreamedFeatures };

/** Writes a data set in the standard layout (all files atomically; see writeDirectoryAtomic). */
export function writeDataset(dir: string, dataset: DatasetToWrite): void {
  const features = dataset.features;
  const files: Array<[string, FileData | (() => FileData)]> = [
    [DATASET_FILES.items, () => itemsCsv(dataset)],
    [DATASET_FILES.features, 'npy' in features ? features.npy : encodeFeatures(features, dataset.featureDtype, dataset.itemIds)],
    [DATASET_FILES.interactions, () => interactionsCsv(dataset)],
  ];
  if (dataset.truth) {
    files.push([DATASET_FILES.truthUsers, encodeNpy(dataset.truth.users)]);
    files.push([DATASET_FILES.truthUserIds, () => csvLine(['user_id']) + dataset.userIds.map((id) => csvLine([id])).join('')]);
    files.push([DATASET_FILES.truthItems, encodeNpy(dataset.truth.items)]);
  }
  writeDirectoryAtomic(dir, files);
}
