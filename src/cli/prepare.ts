// `vasg prepare`: data set → filtered split with a completely cold product set: random
// leave-one-out (the paper's) or a time split at a global cutoff (docs/evaluation.md).
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadDataset } from '../data/dataset.js';
import { parseColdPolicy, prepareSplit, SPLIT_FILES, writeSplit } from '../data/split.js';
import { checkOutputDirectory } from '../data/atomic.js';
import type { SplitSummary } from '../data/types.js';
import { DEFAULT_TEST_FRACTION, parseTestFraction, prepareTimeSplit } from '../data/time-split.js';
import { int, oneOf, progressFor } from './options.js';

function testFraction(value: string): number {
  try {
    return parseTestFraction(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function coldPolicy(value: string) {
  try {
    return parseColdPolicy(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function prepareCommand(): Command {
  return new Command('prepare')
    .description('filter users, hold out one test product per user, and set aside cold products never seen in training (random or time split)')
    .requiredOption('--data <dir>', 'data set in the standard layout (interactions.csv, items.csv, features.npy)')
    .requiredOption('--out <dir>', 'directory for the prepared split')
    .addOption(new Option('--min-interactions <n>', 'drop users with fewer interactions (paper: 5)').argParser(int(1)).default(5))
    .addOption(new Option('--split <kind>', '"random": leave-one-out with a random cold product set (the paper); "time": train before a global cutoff, test each user\'s first purchase after it, products first bought after it are cold').argParser(oneOf('random', 'time')).default('random'))
    .addOption(new Option('--test-fraction <F>', '--split time: the cutoff is the (1 − F) quantile of the timestamps, F in (0, 0.5] (default: 0.1)').argParser(testFraction))
    .addOption(new Option('--cold <policy>', '--split random: "balanced" (T_cold ≈ T_warm, as in the paper) or a fraction of products to make cold').argParser(coldPolicy).default('balanced', 'balanced'))
    .addOption(new Option('--seed <n>', 'random seed').argParser(int(0, 2 ** 31 - 1)).default(1))
    .option('--json', 'print the summary as JSON')
    .action((options, command: Command) => {
      const time = options.split === 'time';
      if (time && command.getOptionValueSource('cold') === 'cli') throw new InvalidArgumentError('--cold applies to --split random; a time split\'s cold products are those first bought after the cutoff');
      if (!time && options.testFraction !== undefined) throw new InvalidArgumentError('--test-fraction applies to --split time');
      checkOutputDirectory(options.out, SPLIT_FILES.summary);
      const progress = progressFor(options);
      // Prepare only selects rows of the features: they are copied file to file when the split is written, never loaded.
      const { dataset, report } = loadDataset(options.data, progress, 'on-disk');
      const policy = typeof options.cold === 'string' ? parseColdPolicy(options.cold) : options.cold;
      const split = time
        ? prepareTimeSplit(dataset, { minInteractions: options.minInteractions, seed: options.seed, testFraction: options.testFraction ?? DEFAULT_TEST_FRACTION }, progress)
        : prepareSplit(dataset, { minInteractions: options.minInteractions, seed: options.seed, coldPolicy: policy }, progress);
      for (const warning of split.summary.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
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
  if (s.split === 'time') {
    lines.push(`  time split: cutoff ${s.cutoffIso} (${((s.shareAfterCutoff ?? 0) * 100).toFixed(1)} % of interactions at or after it); cold = ${s.newArrivals} new arrivals + ${s.neverBought} never bought`);
  }
  if (mergedDuplicates > 0) lines.push(`  merged ${mergedDuplicates} duplicate (user, product) pairs`);
  const filtered = Object.entries(s.filtered).filter(([, n]) => n > 0);
  if (filtered.length) lines.push(`  filtered: ${filtered.map(([why, n]) => `${why} ${n}`).join(', ')}`);
  return lines.join('\n');
}
