// `vasg prepare`: data set → filtered leave-one-out split with a completely cold product set.
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadDataset } from '../data/dataset.js';
import { parseColdPolicy, prepareSplit, SPLIT_FILES, writeSplit } from '../data/split.js';
import { checkOutputDirectory } from '../data/atomic.js';
import type { SplitSummary } from '../data/types.js';
import { int, progressFor } from './options.js';

function coldPolicy(value: string) {
  try {
    return parseColdPolicy(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function prepareCommand(): Command {
  return new Command('prepare')
    .description('filter users, hold out one test product per user, and set aside cold products never seen in training')
    .requiredOption('--data <dir>', 'data set in the standard layout (interactions.csv, items.csv, features.npy)')
    .requiredOption('--out <dir>', 'directory for the prepared split')
    .addOption(new Option('--min-interactions <n>', 'drop users with fewer interactions (paper: 5)').argParser(int(1)).default(5))
    .addOption(new Option('--cold <policy>', '"balanced" (T_cold ≈ T_warm, as in the paper) or a fraction of products to make cold').argParser(coldPolicy).default('balanced', 'balanced'))
    .addOption(new Option('--seed <n>', 'random seed').argParser(int(0, 2 ** 31 - 1)).default(1))
    .option('--json', 'print the summary as JSON')
    .action((options) => {
      checkOutputDirectory(options.out, SPLIT_FILES.summary);
      const progress = progressFor(options);
      const { dataset, report } = loadDataset(options.data, progress);
      const policy = typeof options.cold === 'string' ? parseColdPolicy(options.cold) : options.cold;
      const split = prepareSplit(dataset, { minInteractions: options.minInteractions, seed: options.seed, coldPolicy: policy }, progress);
      writeSplit(options.out, split);
      if (options.json) console.log(JSON.stringify({ ...split.summary, load: report }));
      else console.log(formatSummary(split.summary, report.mergedDuplicates, options.out));
    });
}

export function formatSummary(s: SplitSummary, mergedDuplicates: number, out: string): string {
  const lines = [
    `prepared split written to ${out}`,
    `  users ${s.users}, products ${s.items} (${s.warmItems} warm, ${s.coldItems} cold), image features I = ${s.featureDim}`,
    `  train pairs ${s.trainPairs}; test pairs ${s.testWarm} warm, ${s.testCold} cold (policy ${s.coldPolicy})`,
  ];
  if (mergedDuplicates > 0) lines.push(`  merged ${mergedDuplicates} duplicate (user, product) pairs`);
  const filtered = Object.entries(s.filtered).filter(([, n]) => n > 0);
  if (filtered.length) lines.push(`  filtered: ${filtered.map(([why, n]) => `${why} ${n}`).join(', ')}`);
  return lines.join('\n');
}
