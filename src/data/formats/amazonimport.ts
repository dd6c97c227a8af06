// Assembles an Amazon category (reviews + metadata + optional .b image features) into a Dataset in the
// standard layout. Products of the category with features but no reviews stay (the cold-start case);
// products without features are dropped with their interactions, and every drop is counted.

import type { Progress } from '../../progress.js';
import type { Dataset } from '../types.js';
import { inCategory, readMeta, readReviews, type ProductMeta, type Review } from './amazon.js';
import { readFeatureRecords } from './amazonfeatures.js';

export interface AmazonImportOptions {
  reviews: string;
  meta: string;
  features?: string;
  featureDim: number;
  /** Path prefix split on '/', e.g. ['Clothing, Shoes & Jewelry', 'Men']; empty = everything. */
  category: string[];
}

export interface ImportReport {
  users: number;
  items: number;
  interactions: number;
  featureDim: number;
  dropped: Record<string, number>;
}

function count(dropped: Record<string, number>, reason: string, n = 1): void {
  if (n > 0) dropped[reason] = (dropped[reason] ?? 0) + n;
}

export async function importAmazon(o: AmazonImportOptions, progress: Progress): Promise<{ dataset: Dataset; report: ImportReport }> {
  const dropped: Record<string, number> = {};
  const bad = (file: string, line: number, reason: string) => {
    count(dropped, 'malformed line');
    progress.log(`${file}:${line}: skipped (${reason})`);
  };

  progress.start(`metadata ${o.meta}`, 0);
  const products = new Map<string, ProductMeta>();
  for await (const m of readMeta(o.meta, bad)) {
    if (o.category.length > 0 && !inCategory(m, o.category)) continue;
    products.set(m.asin, m);
    if (products.size % 10000 === 0) progress.update(products.size);
  }
  progress.finish(`${products.size} products selected`);

  progress.start(`reviews ${o.reviews}`, 0);
  const reviews = new Map<string, Review>(); // key user\titem; duplicates merged, latest wins
  let read = 0;
  for await (const r of readReviews(o.reviews, bad)) {
    if (++read % 100000 === 0) progress.update(read);
    if (o.category.length > 0 && !products.has(r.item)) continue;
    if (!products.has(r.item)) products.set(r.item, { asin: r.item, title: '', imageUrl: '', categories: [] });
    const key = `${r.user}\t${r.item}`;
    const prev = reviews.get(key);
    if (prev) count(dropped, 'duplicate review');
    if (!prev || r.time >= prev.time) reviews.set(key, r);
  }
  progress.finish(`${read} reviews read`);

  const vectors = new Map<string, Float32Array>();
  if (o.features) {
    progress.start(`features ${o.features}`, products.size);
    for (const rec of readFeatureRecords(o.features, o.featureDim, (asin) => products.has(asin) && !vectors.has(asin))) {
      vectors.set(rec.asin, rec.vector);
      progress.update(vectors.size);
    }
    progress.finish(`${vectors.size} of ${products.size} products have features`);
    for (const asin of products.keys()) {
      if (!vectors.has(asin)) {
        products.delete(asin);
        count(dropped, 'product without features');
      }
    }
  }
  return assemble(products, reviews, vectors, o.features ? o.featureDim : 0, dropped);
}

function assemble(
  products: Map<string, ProductMeta>,
  reviews: Map<string, Review>,
  vectors: Map<string, Float32Array>,
  dim: number,
  dropped: Record<string, number>,
): { dataset: Dataset; report: ImportReport } {
  const itemIds = [...products.keys()];
  const itemIndex = new Map(itemIds.map((id, i) => [id, i]));
  const kept = [...reviews.values()].filter((r) => itemIndex.has(r.item));
  count(dropped, 'interaction of product without features', reviews.size - kept.length);
  const userIds = [...new Set(kept.map((r) => r.user))];
  const userIndex = new Map(userIds.map((id, i) => [id, i]));
  const n = kept.length;
  const interactions = { users: new Int32Array(n), items: new Int32Array(n), ratings: new Float32Array(n), timestamps: new Float64Array(n) };
  kept.forEach((r, k) => {
    interactions.users[k] = userIndex.get(r.user)!;
    interactions.items[k] = itemIndex.get(r.item)!;
    interactions.ratings[k] = r.rating;
    interactions.timestamps[k] = r.time > 0 ? r.time : NaN;
  });
  const data = new Float32Array(itemIds.length * dim);
  itemIds.forEach((id, i) => dim > 0 && data.set(vectors.get(id)!, i * dim));
  const items = itemIds.map((id) => {
    const m = products.get(id)!;
    return { title: m.title, category: (m.categories[0] ?? []).join('/'), imageUrl: m.imageUrl };
  });
  const dataset: Dataset = { userIds, itemIds, items, interactions, features: { data, rows: itemIds.length, cols: dim } };
  return { dataset, report: { users: userIds.length, items: itemIds.length, interactions: n, featureDim: dim, dropped } };
}
