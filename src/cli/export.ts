// `vasg export`: a trained model's parts in formats other systems read. One function per target;
// each writes its output atomically (or as one commit) and returns a summary line.
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { VasgModel } from '../model/vasg-model.js';
import { writeFileAtomic } from '../data/atomic.js';
import { field, idField, readCsv } from '../data/csv.js';
import { ITEMS_CSV } from '../data/dataset.js';
import type { ItemMeta } from '../data/types.js';
import { ConfigError } from '../errors.js';
import { encodeModel } from '../onnx/writer.js';
import { ENCODER_INPUT, ENCODER_OUTPUT, encoderGraph } from '../onnx/encoder-graph.js';
import { writeLanceDb } from '../search/lancedb.js';

interface ExportSummary {
  target: string;
  out: string;
  [key: string]: unknown;
}

/** The encoder M (image features → embedding) as an ONNX graph. */
function exportOnnx(model: VasgModel, file: string): ExportSummary {
  const graph = encoderGraph(model);
  writeFileAtomic(file, encodeModel(graph));
  return { target: 'onnx', out: file, input: ENCODER_INPUT, output: ENCODER_OUTPUT, featureDim: model.parts.featureDim, dim: model.config.dim };
}

/** User and product vectors with metadata into LanceDB (`lancedb://PATH`: a folder or an object-store URI). */
async function exportLanceDb(model: VasgModel, to: string, itemsFile: string | null): Promise<ExportSummary> {
  const match = /^lancedb:\/\/(.+)$/.exec(to);
  if (!match) throw new ConfigError(`--to ${to}: expected lancedb://PATH (a folder, or an object-store URI such as lancedb://s3://bucket/vasg)`);
  const meta = itemsFile ? readItemMeta(itemsFile) : null;
  return { ...(await writeLanceDb(model, match[1], meta)), items: itemsFile };
}

/** title/category/image_url by item id, from a file in the items.csv layout. */
function readItemMeta(file: string): Map<string, ItemMeta> {
  const table = readCsv(file, { ...ITEMS_CSV, optional: [...(ITEMS_CSV.optional ?? []), 'cold'] });
  return new Map(table.rows.map((row) => [idField(table, row, 'item_id'), {
    title: field(table, row, 'title') ?? '', category: field(table, row, 'category') ?? '', imageUrl: field(table, row, 'image_url') ?? '',
  }]));
}

/** --items, else an items.csv kept in the model directory, else none. */
function itemsFileFor(modelDir: string, explicit: string | undefined): string | null {
  if (explicit) return explicit;
  const inModel = path.join(modelDir, 'items.csv');
  return fs.existsSync(inModel) ? inModel : null;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model for other runtimes and stores (the encoder as ONNX, vectors to LanceDB)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--onnx <file>', `write the encoder M as ONNX: input "${ENCODER_INPUT}" [batch × I] raw image features, output "${ENCODER_OUTPUT}" [batch × D]`)
    .option('--to <uri>', 'write user and product vectors with metadata to LanceDB: lancedb://PATH (tables "users" and "products", replaced as one commit each)')
    .option('--items <file>', 'product metadata for --to (items.csv layout: item_id, title, category, image_url); default: items.csv in the model directory when present')
    .option('--json', 'print a JSON summary')
    .action(async (options) => {
      const model = VasgModel.load(options.model);
      const summaries: ExportSummary[] = [];
      if (options.onnx) summaries.push(exportOnnx(model, options.onnx));
      if (options.to) summaries.push(await exportLanceDb(model, options.to, itemsFileFor(options.model, options.items)));
      if (summaries.length === 0) throw new ConfigError('export: name at least one target (--onnx FILE, --to lancedb://PATH)');
      for (const s of summaries) {
        console.log(options.json ? JSON.stringify(s) : `wrote the ${s.target} export to ${s.out}`);
      }
    });
}
