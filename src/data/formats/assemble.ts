// The last step of every import: selected products, merged interactions and features → a data set in the
// standard layout, plus the report of what was kept and dropped. Interactions of products that are not
// kept (no features) are dropped and counted; kept products without interactions stay (cold start).

import { DEFAULT_EVENT_TYPE, EventTypeCollector } from '../events.js';
import type { Interactions } from '../types.js';
import type { DatasetToWrite } from '../dataset.js';
import type { ProductMeta, Review } from './amazon.js';

export interface ImportReport {
  users: number;
  items: number;
  interactions: number;
  featureDim: number;
  dropped: Record<string, number>;
}

export function count(dropped: Record<string, number>, reason: string, n = 1): void {
  if (n > 0) dropped[reason] = (dropped[reason] ?? 0) + n;
}

/** `features` (when given) has one row per product, in the order of `products`. */
export function assemble(
  products: Map<string, ProductMeta>,
  reviews: Iterable<Review>,
  features: DatasetToWrite['features'] | undefined,
  dropped: Record<string, number>,
): { dataset: DatasetToWrite; report: ImportReport } {
  const itemIds = [...products.keys()];
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const all = [...reviews];
  const kept = all.filter((r) => itemIndex.has(r.item));
  count(dropped, 'interaction of product without features', all.length - kept.length);
  const userIds = [...new Set(kept.map((r) => r.user))];
  const userIndex = new Map(userIds.map((id, i) => [id, i]));
  const n = kept.length;
  const interactions: Interactions = { users: new Int32Array(n), items: new Int32Array(n), ratings: new Float32Array(n), timestamps: new Float64Array(n) };
  const typed = kept.some((r) => r.types !== undefined);
  const collector = new EventTypeCollector();
  const masks = kept.map((r) => (r.types ?? [DEFAULT_EVENT_TYPE]).reduce((mask, type) => mask | collector.bit(type, `--type-col, user ${JSON.stringify(r.user)}, item ${JSON.stringify(r.item)}`, "--type-col"), 0));
  if (typed) interactions.events = collector.result(masks);
  kept.forEach((r, k) => {
    interactions.users[k] = userIndex.get(r.user)!;
    interactions.items[k] = itemIndex.get(r.item)!;
    interactions.ratings[k] = r.rating;
    interactions.timestamps[k] = r.time > 0 ? r.time : NaN;
  });
  const items = itemIds.map((id) => {
    const m = products.get(id)!;
    return { title: m.title, category: (m.categories[0] ?? []).join('/'), imageUrl: m.imageUrl };
  });
  const dataset: DatasetToWrite = {
    userIds,
    itemIds,
    items,
    interactions,
    features: features ?? { data: new Float32Array(0), rows: itemIds.length, cols: 0 },
  };
  return { dataset, report: { users: userIds.length, items: itemIds.length, interactions: n, featureDim: dataset.features.cols, dropped } };
}
