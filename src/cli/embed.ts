// `vasg embed`: embeds new (cold) products from their image features with the trained encoder M.
import path from 'node:path';
import { Command } from 'commander';
import { VasgModel } from '../model/vasg-model.js';
import { checkFinite, readFeatures, writeNpy } from '../data/npy.js';
import { isHalf } from '../data/features.js';
import { ConfigError } from '../errors.js';
import { readCsv, idField, writeCsvRows } from '../data/csv.js';
import { ITEMS_CSV, itemsFileBeside } from '../data/dataset.js';

export function embedCommand(): Command {
  return new Command('embed')
    .description('embed new products from image features (rows of a .npy) into the model\'s space')
    .requiredOption('--model <dir>', 'model directory')
    .requiredOption('--features <file>', '.npy [n × I] (float32 or float16), I as in training')
    .requiredOption('--ids <file>', 'CSV in the items.csv layout (item_id, optional title, category, image_url, cold), one row per feature row')
    .requiredOption('--out <file>', '.npy to write [n × D]; its rows\' ids go to <out>.items.csv beside it (the --ids rows)')
    .option('--json', 'print a JSON summary')
    .action(async (options) => {
      // The model's own arrays live in --model; overwriting one would corrupt the model (and its manifest check).
      if (path.resolve(path.dirname(options.out)) === path.resolve(options.model)) {
        throw new ConfigError(`--out ${options.out}: is inside the model directory ${options.model}; write the embeddings elsewhere`);
      }
      const model = VasgModel.load(options.model);
      // float16 stays float16 (checked finite as read) and is widened a block at a time by the encoder.
      const features = readFeatures(options.features);
      if (!isHalf(features)) checkFinite(options.features, features);
      // A prepared split's items.csv (with its `cold` column) works as --ids too.
      const ids = readCsv(options.ids, { ...ITEMS_CSV, optional: [...(ITEMS_CSV.optional ?? []), 'cold'] });
      if (ids.rows.length !== features.rows) {
        throw new Error(`${options.ids}: ${ids.rows.length} ids, but ${options.features} has ${features.rows} rows`);
      }
      const itemIds = ids.rows.map((row) => idField(ids, row, 'item_id'));
      const embeddings = await model.embedFeatures(features);
      const idsOut = itemsFileBeside(options.out);
      writeNpy(options.out, embeddings);
      writeCsvRows(idsOut, ids, ids.rows);
      const summary = { out: options.out, idsOut, items: itemIds.length, dim: embeddings.cols };
      console.log(options.json ? JSON.stringify(summary) : `wrote ${itemIds.length} × ${embeddings.cols} embeddings to ${options.out}, their ids to ${idsOut}`);
    });
}
