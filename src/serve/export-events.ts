// `vasg export-events`: what a server learned since training (products added with their features, user events with
// their times and types) plus the model's training data → the next training set in the standard layout, ready for
// `vasg train --init-from`. Reads the model directory's compacted state and the write log beside it without
// changing either, so it can run next to a live `vasg serve`.
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { loadDataset, type DatasetToWrite } from '../data/dataset.js';
import { DEFAULT_EVENT_TYPE, EventTypeCollector, typesOf } from '../data/events.js';
import type { Dataset, ItemMeta } from '../data/types.js';
import { eventsOf, readCompactedState, writeLogOf, type NewItem, type WriteRecord } from './catalog.js';
import type { UserEvent } from './events.js';
import { WriteLog } from './write-log.js';
import { forEachFeatureBlock } from '../data/features.js';

export interface ExportReport {
  /** The training data the export started from. */
  data: string;
  trainingInteractions: number;
  addedProducts: number;
  /** Logged events, those that were new (user, product) pairs, and those already in the training data (merged). */
  events: number;
  newPairs: number;
  newUsers: number;
  interactions: number;
  /** Logged writes that the data set cannot hold: availability changes (products stay in the catalogue). */
  availabilityChanges: number;
}

/** One logged user event as the export reads it: `time` in seconds since the epoch, absent when unknown. */
interface LoggedEvent {
  user: string;
  item: string;
  time?: number;
  type: string;
}

/** What a served model directory logged since training: its compacted state, then the records of its write log. */
function loggedWrites(modelDir: string): { added: NewItem[]; events: LoggedEvent[]; availability: number } {
  const state = readCompactedState(modelDir);
  const added = [...state.added];
  const events: LoggedEvent[] = [];
  const push = (user: string, list: UserEvent[]) => {
    for (const e of list) events.push({ user, item: e.item, type: e.type, ...(e.time === null ? {} : { time: Math.floor(Date.parse(e.time) / 1000) }) });
  };
  for (const [user, list] of Object.entries(state.users)) push(user, list);
  let availability = state.unavailable.length;
  for (const record of WriteLog.read(writeLogOf(modelDir)) as WriteRecord[]) {
    if (record.op === 'items') added.push(...record.items);
    else if (record.op === 'available') availability++;
    else push(record.user, eventsOf(record));
  }
  return { added, events, availability };
}

/** Where the model's training data is: --data, else the path `vasg train` recorded in the manifest. */
export function trainingDataOf(modelDir: string, data?: string): string {
  if (data) return data;
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'manifest.json'), 'utf8')) as { info?: { dataDir?: string; layout?: string } };
  const recorded = manifest.info?.dataDir;
  if (!recorded) throw new InputError(`${modelDir}: manifest.json does not record the training data (a model trained before export-events existed); pass --data DATASET`, modelDir);
  if (manifest.info?.layout === 'split') {
    throw new InputError(`${modelDir}: was trained on a prepared split (${recorded}), not a data set; pass --data DATASET (the data set the split was prepared from)`, modelDir);
  }
  return recorded;
}

/**
 * The training data plus the logged products and events. A product added while serving joins the catalogue with its
 * features (a product id the data already has keeps the data's row); an event becomes an interaction of its type at
 * its time (events logged without a time get the export's time); events of a pair already in the data merge with it.
 */
export function exportEvents(modelDir: string, data?: string): { dataset: DatasetToWrite; report: ExportReport } {
  const dataDir = trainingDataOf(modelDir, data);
  const { dataset } = loadDataset(dataDir);
  const { added, events, availability } = loggedWrites(modelDir);
  const itemIds = [...dataset.itemIds];
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const items: ItemMeta[] = [...dataset.items];
  const I = dataset.features.cols;
  const newRows: number[][] = [];
  for (const item of added) {
    if (itemIndex.has(item.id)) continue;
    if (item.features.length !== I) throw new InputError(`${writeLogOf(modelDir)}: product "${item.id}" has ${item.features.length} features, the data set ${I}`, writeLogOf(modelDir));
    itemIndex.set(item.id, itemIds.push(item.id) - 1);
    items.push({ title: item.title ?? '', category: item.category ?? '', imageUrl: item.imageUrl ?? '' });
    newRows.push(item.features);
  }
  const features = new Float32Array(itemIds.length * I);
  forEachFeatureBlock(dataset.features, (block, r0) => features.set(block, r0 * I));
  newRows.forEach((row, k) => features.set(row, (dataset.itemIds.length + k) * I));
  const interactions = appendEvents(dataset, events, itemIndex, modelDir);
  const out: DatasetToWrite = {
    userIds: interactions.userIds,
    itemIds,
    items,
    interactions: interactions.interactions,
    features: { data: features, rows: itemIds.length, cols: I },
  };
  return {
    dataset: out,
    report: {
      data: dataDir,
      trainingInteractions: dataset.interactions.users.length,
      addedProducts: newRows.length,
      events: events.length,
      newPairs: interactions.interactions.users.length - dataset.interactions.users.length,
      newUsers: interactions.userIds.length - dataset.userIds.length,
      interactions: interactions.interactions.users.length,
      availabilityChanges: availability,
    },
  };
}

/** The data's interactions with the events added: a new pair per new (user, product), types merged into existing pairs. */
function appendEvents(dataset: Dataset, events: LoggedEvent[], itemIndex: Map<string, number>, modelDir: string) {
  const src = dataset.interactions;
  const userIds = [...dataset.userIds];
  const userIndex = new Map(userIds.map((id, u) => [id, u]));
  const collector = new EventTypeCollector();
  const log = writeLogOf(modelDir);
  const types = Array.from(src.users, (_, k) => typesOf(src.events ? src.events.types[k] : 1, src.events?.typeNames ?? [DEFAULT_EVENT_TYPE])
    .reduce((mask, name) => mask | collector.bit(name, 'the training data', log), 0));
  const columns = { users: [...src.users], items: [...src.items], ratings: [...src.ratings], timestamps: [...src.timestamps], types };
  const nItems = itemIndex.size;
  const pair = new Map<number, number>();
  for (let k = 0; k < src.users.length; k++) pair.set(src.users[k] * nItems + src.items[k], k);
  const now = Math.floor(Date.now() / 1000);
  for (const event of events) {
    const item = itemIndex.get(event.item);
    if (item === undefined) throw new InputError(`${log}: an event of user "${event.user}" names product "${event.item}", which is neither in the data set nor added`, log);
    let user = userIndex.get(event.user);
    if (user === undefined) userIndex.set(event.user, (user = userIds.push(event.user) - 1));
    const bit = collector.bit(event.type, `${log}: event of user "${event.user}"`, log);
    const time = event.time ?? now;
    const existing = pair.get(user * nItems + item);
    if (existing !== undefined) {
      columns.types[existing] |= bit;
      if (!(columns.timestamps[existing] >= time)) columns.timestamps[existing] = time;
      continue;
    }
    pair.set(user * nItems + item, columns.users.length);
    columns.users.push(user);
    columns.items.push(item);
    columns.ratings.push(1);
    columns.timestamps.push(time);
    columns.types.push(bit);
  }
  const interactions: Dataset['interactions'] = {
    users: Int32Array.from(columns.users),
    items: Int32Array.from(columns.items),
    ratings: Float32Array.from(columns.ratings),
    timestamps: Float64Array.from(columns.timestamps),
  };
  // Typed output only where a type other than purchase occurs: an all-purchase log stays in the untyped layout.
  const result = collector.result(columns.types);
  if (result.typeNames.some((name) => name !== DEFAULT_EVENT_TYPE)) interactions.events = result;
  return { userIds, interactions };
}
