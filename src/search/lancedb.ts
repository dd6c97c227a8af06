// User and product vectors in LanceDB, the vector database a shop past one machine queries from many
// stateless API replicas (its tables live on a local disk or on object storage). Tables are built
// column-wise from the model's arrays (no per-row objects), and each is one LanceDB commit: a reader
// sees the previous version or the new one, never a half-written table.
import { createRequire } from 'node:module';
import * as lancedb from '@lancedb/lancedb';
import type { Matrix, ItemMeta } from '../data/types.js';

// LanceDB (CommonJS) checks `instanceof` against the CommonJS build of apache-arrow; the ES-module build
// has its own classes, so the tables are built with the same build LanceDB loads.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
type ArrowVector = import('apache-arrow').Vector;
type ArrowTable = import('apache-arrow').Table;

export const LANCE_TABLES = { users: 'users', products: 'products' } as const;

/** Schema metadata: how a LanceDB query reproduces the model's ranking. */
export const LANCE_SCORING_NOTE = 'vector holds the scoring vectors (rows normalised when the model scores by cosine): rank with distanceType("dot"), score = 1 - _distance';

export interface LanceExportSummary {
  target: 'lancedb';
  out: string;
  users: number;
  products: number;
  cold: number;
  dim: number;
  scoring: string;
  metadata: boolean;
}

/** What the export reads from a model (a VasgModel has all of it): the search layer knows no model class. */
export interface LanceSource {
  scoringMatrices(): { users: Matrix; items: Matrix };
  parts: { userIds: string[]; itemIds: string[]; cold: Uint8Array; seenIndptr: Int32Array };
  config: { scoring: string };
}

/** Writes tables `users` (id, row, vector, purchases) and `products` (id, row, vector, cold, title, category, image_url). */
export async function writeLanceDb(model: LanceSource, uri: string, meta: Map<string, ItemMeta> | null): Promise<LanceExportSummary> {
  const { users, items } = model.scoringMatrices();
  const { userIds, itemIds, cold, seenIndptr } = model.parts;
  const scoring = model.config.scoring;
  const note = new Map([['vasg.scoring', scoring], ['vasg.query', LANCE_SCORING_NOTE]]);
  const userTable = table({
    id: arrow.vectorFromArray(userIds, new arrow.Utf8()),
    row: arrow.makeVector(Int32Array.from(userIds, (_, u) => u)),
    vector: vectorColumn(users),
    purchases: arrow.makeVector(Int32Array.from(userIds, (_, u) => seenIndptr[u + 1] - seenIndptr[u])),
  }, note);
  const text = (pick: (m: ItemMeta) => string) => arrow.vectorFromArray(itemIds.map((id) => {
    const value = meta?.get(id);
    return value ? pick(value) || null : null;
  }), new arrow.Utf8());
  const productTable = table({
    id: arrow.vectorFromArray(itemIds, new arrow.Utf8()),
    row: arrow.makeVector(Int32Array.from(itemIds, (_, i) => i)),
    vector: vectorColumn(items),
    cold: arrow.vectorFromArray(Array.from(cold, (c) => c === 1), new arrow.Bool()),
    title: text((m) => m.title),
    category: text((m) => m.category),
    image_url: text((m) => m.imageUrl),
  }, note);
  const db = await lancedb.connect(uri);
  await replaceTable(db, LANCE_TABLES.users, userTable);
  await replaceTable(db, LANCE_TABLES.products, productTable);
  return {
    target: 'lancedb', out: uri, users: userIds.length, products: itemIds.length, cold: cold.reduce((n, c) => n + c, 0),
    dim: items.cols, scoring, metadata: meta !== null,
  };
}

/** A matrix as an Arrow FixedSizeList<Float32> column (a view of its data, no copy). */
function vectorColumn(m: Matrix): ArrowVector {
  const child = arrow.makeData({ type: new arrow.Float32(), data: m.data.subarray(0, m.rows * m.cols), length: m.rows * m.cols });
  const type = new arrow.FixedSizeList(m.cols, new arrow.Field('item', new arrow.Float32(), true));
  return arrow.makeVector(arrow.makeData({ type, length: m.rows, nullCount: 0, child }));
}

function table(columns: Record<string, ArrowVector>, metadata: Map<string, string>): ArrowTable {
  const plain = new arrow.Table(columns);
  const schema = new arrow.Schema(plain.schema.fields, metadata);
  return new arrow.Table(schema, plain.batches.map((batch) => new arrow.RecordBatch(schema, batch.data)));
}

async function replaceTable(db: lancedb.Connection, name: string, data: ArrowTable): Promise<void> {
  // LanceDB refuses an empty data argument; an empty table is made from its schema.
  if (data.numRows === 0) await db.createEmptyTable(name, data.schema, { mode: 'overwrite' });
  else await db.createTable(name, data, { mode: 'overwrite' });
}
