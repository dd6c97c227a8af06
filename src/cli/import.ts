// `vasg import`: real catalogs into the standard layout (interactions.csv, items.csv, features.npy).
import { Command, InvalidArgumentError, Option } from 'commander';
import { writeDataset } from '../data/dataset.js';
import { DEFAULT_FEATURE_DIM } from '../data/formats/amazonfeatures.js';
import { importAmazon } from '../data/formats/amazonimport.js';
import type { ImportReport } from '../data/formats/assemble.js';
import { importTable, TABLE_FORMATS } from '../data/formats/table.js';
import { dtypeOption, int, num, progressFor } from './options.js';

function printReport(report: ImportReport, out: string, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`wrote ${report.users} users, ${report.items} products, ${report.interactions} interactions (I = ${report.featureDim}) to ${out}`);
  for (const [reason, n] of Object.entries(report.dropped)) console.log(`  dropped: ${reason}: ${n}`);
}

function amazonCommand(): Command {
  return new Command('amazon')
    .description('import an Amazon review dump (2014/2018 reviews, metadata, optional .b image features)')
    .requiredOption('--reviews <file>', 'reviews: JSON lines (2014/2018) or ratings-only CSV, plain or .gz')
    .requiredOption('--meta <file>', 'metadata: 2014 Python-literal lines or 2018 JSON lines, plain or .gz')
    .option('--features <file>', 'image features .b file (10-byte ASIN + float32 vector per record)')
    .addOption(new Option('--feature-dim <n>', 'floats per .b record').argParser(int(1)).default(DEFAULT_FEATURE_DIM))
    .addOption(
      new Option('--category <path>', "category path prefix, e.g. 'Clothing, Shoes & Jewelry/Men'; repeat it to keep products under any of several")
        .argParser((path: string, earlier: string[]) => [...earlier, path])
        .default([], 'every category'),
    )
    .requiredOption('--out <dir>', 'directory to write')
    .addOption(dtypeOption())
    .option('--json', 'print a JSON summary only')
    .action(async (options) => {
      const { dataset, report } = await importAmazon(
        {
          reviews: options.reviews,
          meta: options.meta,
          features: options.features,
          featureDim: options.featureDim,
          categories: (options.category as string[]).map((path) => path.split('/')),
          dtype: options.dtype,
        },
        progressFor(options),
      );
      writeDataset(options.out, { ...dataset, featureDtype: options.dtype });
      printReport(report, options.out, Boolean(options.json));
    });
}

/** Seconds since the epoch from a number of seconds or an ISO date. */
function since(value: string): number {
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) return seconds;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected seconds since the epoch or an ISO date (2014-01-31)');
  return ms / 1000;
}

function tableCommand(): Command {
  return new Command('table')
    .description('import interaction logs (CSV, TSV, NDJSON, Parquet; files or globs) read with DuckDB, with an optional item table and features')
    .requiredOption('--interactions <files...>', 'log files or glob patterns (quote globs), all of one format')
    .requiredOption('--user-col <name>', 'column holding the user id')
    .requiredOption('--item-col <name>', 'column holding the item id')
    .option('--rating-col <name>', 'column holding the rating (without it: implicit feedback, rating 1)')
    .option('--time-col <name>', 'column holding the time: seconds since the epoch, a date/timestamp, or ISO text')
    .option('--type-col <name>', 'column holding the event type (purchase, cart, click, view, …; empty: purchase), weighted in training by --event-weights')
    .addOption(new Option('--min-rating <x>', 'drop interactions rated below x').argParser(num(Number.NEGATIVE_INFINITY)))
    .addOption(new Option('--since <time>', 'drop interactions before this time (seconds or ISO date)').argParser(since))
    .option('--items <files...>', 'item table (never-bought items in it stay as cold-start products)')
    .option('--item-id-col <name>', 'item id column of the item table', 'item_id')
    .option('--title-col <name>', 'title column of the item table')
    .option('--category-col <name>', 'category column of the item table')
    .option('--image-col <name>', 'image URL/path column of the item table')
    .option('--vector-col <name>', 'feature vector column of the item table (a list, or text like [0.1, 0.2])')
    .option('--features <file.npy>', 'features as .npy, row k for the k-th id of --feature-ids')
    .option('--feature-ids <file>', 'one item id per line for --features (a first line "item_id" is a header)')
    .addOption(new Option('--format <format>', 'format of the files when the extension does not tell').choices([...TABLE_FORMATS]))
    .requiredOption('--out <dir>', 'directory to write')
    .addOption(dtypeOption())
    .option('--json', 'print a JSON summary only')
    .action(async (options) => {
      const { dataset, report } = await importTable({ ...options, featuresNpy: options.features }, progressFor(options));
      writeDataset(options.out, { ...dataset, featureDtype: options.dtype });
      printReport(report, options.out, Boolean(options.json));
    });
}

export function importCommand(): Command {
  return new Command('import').description('import real data into the standard layout').addCommand(amazonCommand()).addCommand(tableCommand());
}
