// Assembles an Amazon category (reviews + metadata + optional .b image features) into a Dataset in the
// standard layout. Products of the category with features but no reviews stay (the cold-start case);
// products without features are dropped with their interactions, and every drop is counted.

import type { Progress } from '../../progress.js';
import type { DatasetToWrite } from '../dataset.js';
import { floatToHalf, halfOverflow, halfOverflowReason, npyHeader, type NpyDtype } from '../npy.js';
import { assemble, count, type ImportReport } from './assemble.js';
import { pathsUnder, readMeta, readReviews, type ProductMeta, type Review } from './amazon.js';
import { checkFeatureFileSize, indexFeatureFile, readFeatureRecords } from './amazonfeatures.js';

export interface AmazonImportOptions {
  reviews: string;
  meta: string;
  features?: string;
  featureDim: number;
  /** Storage type of the written features.npy (default float32). */
  dtype?: NpyDtype;
  /** Path prefixes split on '/', e.g. [['Clothing, Shoes & Jewelry', 'Men']]; a product under any is kept; none = everything. */
  categories: string[][];
}

/** Skipped lines named on stderr (also with --json, whose stdout stays the report); the rest are only counted. */
const NAMED_BAD_LINES = 100;

export async function importAmazon(
  o: AmazonImportOptions,
  progress: Progress,
  warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
): Promise<{ dataset: DatasetToWrite; report: ImportReport }> {
  const dropped: Record<string, number> = {};
  const bad = (file: string, line: number, reason: string) => {
    count(dropped, 'malformed line');
    const n = dropped['malformed line'];
    if (n <= NAMED_BAD_LINES) warn(`${file}:${line}: skipped (${reason})`);
    if (n === NAMED_BAD_LINES) warn(`${file}: further malformed lines are only counted`);
  };

  // A .b file of the wrong size (or --feature-dim) fails now, not after a long read of the reviews.
  if (o.features) checkFeatureFileSize(o.features, o.featureDim);
  progress.start(`metadata ${o.meta}`, 0);
  const products = new Map<string, ProductMeta>();
  for await (const m of readMeta(o.meta, bad)) {
    // Only the selected paths stay, so items.csv's category (the first path) is one under --category.
    const categories = o.categories.length > 0 ? pathsUnder(m, o.categories) : m.categories;
    if (o.categories.length > 0 && categories.length === 0) continue;
    products.set(m.asin, { ...m, categories });
    if (products.size % 10000 === 0) progress.update(products.size);
  }
  progress.finish(`${products.size} products selected`);

  progress.start(`reviews ${o.reviews}`, 0);
  const reviews = new Map<string, Review>(); // key user\titem; duplicates merged, latest wins
  let read = 0;
  for await (const r of readReviews(o.reviews, bad)) {
    if (++read % 100000 === 0) progress.update(read);
    if (o.categories.length > 0 && !products.has(r.item)) {
      count(dropped, 'review outside the category');
      continue;
    }
    if (!products.has(r.item)) products.set(r.item, { asin: r.item, title: '', imageUrl: '', categories: [] });
    const key = `${r.user}\t${r.item}`;
    const prev = reviews.get(key);
    if (prev) count(dropped, 'duplicate review');
    if (!prev || r.time >= prev.time) reviews.set(key, r);
  }
  progress.finish(`${read} reviews read`);

  let features: DatasetToWrite['features'] | undefined;
  if (o.features) {
    progress.start(`index ${o.features}`, 0);
    const { asins, records } = indexFeatureFile(o.features, o.featureDim, (asin) => products.has(asin));
    progress.finish(`${asins.length} of ${products.size} products have features`);
    if (asins.length === 0 && products.size > 0) {
      throw new Error(`${o.features}: none of the ${products.size} products of ${o.meta} and ${o.reviews} has a record in this image-feature file: is it another category's file?`);
    }
    count(dropped, 'product without features', products.size - asins.length);
    const featured = new Map(asins.map((asin) => [asin, products.get(asin)!]));
    products.clear();
    for (const [asin, m] of featured) products.set(asin, m);
    features = { rows: asins.length, cols: o.featureDim, npy: () => featureNpy(o.features!, o.featureDim, records, o.dtype ?? 'float32', progress) };
  }
  return assemble(products, reviews.values(), features, dropped);
}

/** features.npy streamed from the .b file: header, then the kept records in order; memory is one buffer. */
function* featureNpy(file: string, dim: number, records: number[], dtype: NpyDtype, progress: Progress): Generator<ArrayBufferView> {
  yield npyHeader(records.length, dim, dtype);
  progress.start(`features ${file}`, records.length);
  let next = 0;
  for (const rec of readFeatureRecords(file, dim, (_, record) => record === records[next])) {
    const bad = rec.vector.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`${file}: record at byte offset ${rec.offset} (ASIN ${rec.asin}), value ${bad}: expected a finite number, found ${rec.vector[bad]}`);
    next += 1;
    if (next % 1000 === 0) progress.update(next);
    const over = dtype === 'float16' ? halfOverflow(rec.vector) : -1;
    if (over >= 0) throw new Error(`${file}: record at byte offset ${rec.offset} (ASIN ${rec.asin}, row ${next - 1} of features.npy), value ${over}: ${halfOverflowReason(rec.vector[over])}`);
    yield dtype === 'float16' ? Uint16Array.from(rec.vector, floatToHalf) : rec.vector;
  }
  if (next !== records.length) throw new Error(`${file}: changed while importing (found ${next} of ${records.length} indexed records)`);
  progress.finish(`${next} feature vectors written`);
}
