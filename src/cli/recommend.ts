// `vasg recommend`: top-k unseen products for a user, cold products included and marked; with --all-users,
// every user's (or one shard's) top-k into a Parquet file.
import { Command, InvalidArgumentError, Option } from 'commander';
import stringWidth from 'string-width';
import { VasgModel } from '../model/vasg-model.js';
import { parseShard, writeAllRecommendations, type Shard } from '../model/batch-recommend.js';
import { RETRIEVER_KINDS, type RetrieverKind } from '../search/index.js';
import { ConfigError } from '../errors.js';
import { int, progressFor } from './options.js';

function shardFlag(text: string): Shard {
  try {
    return parseShard(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function recommendCommand(): Command {
  return new Command('recommend')
    .description('top-k products a user has not interacted with, by the model\'s score; --all-users writes every user\'s to Parquet')
    .requiredOption('--model <dir>', 'model directory')
    .option('--user <id>', 'user id')
    .option('--all-users', 'every user of the model (or of --shard) into the Parquet file --out')
    .option('--out <file>', 'with --all-users: the Parquet file (user_id, rank, item_id, score, cold), written whole or not at all')
    .addOption(new Option('--shard <i/n>', 'with --all-users: only shard i of n (0 ≤ i < n; users split by a stable hash of their id)').argParser(shardFlag))
    .addOption(new Option('--index <kind>', 'with --all-users: nearest-product search').choices([...RETRIEVER_KINDS]).default('exact'))
    .addOption(new Option('-k, --k <n>', 'number of products').argParser(int(1, 100000)).default(10))
    .option('--no-cold', 'leave out cold products (never seen in training)')
    .option('--json', 'print JSON')
    .action(async (options) => {
      if (options.allUsers) {
        if (options.user !== undefined) throw new ConfigError('give either --user or --all-users, not both', 'user');
        if (options.out === undefined) throw new ConfigError('--all-users needs --out FILE.parquet', 'out');
        const model = VasgModel.load(options.model);
        const report = await writeAllRecommendations(model, options.out, {
          k: options.k, shard: options.shard, index: options.index as RetrieverKind, includeCold: options.cold, progress: progressFor(options),
        });
        if (options.json) console.log(JSON.stringify(report));
        else console.error(`${report.rows} rows for ${report.users} users in ${report.file} (${report.usersPerSecond.toFixed(0)} users/s)`);
        return;
      }
      if (options.user === undefined) throw new ConfigError('give --user ID (one user) or --all-users --out FILE.parquet', 'user');
      for (const flag of ['out', 'shard'] as const) {
        if (options[flag] !== undefined) throw new ConfigError(`--${flag} goes with --all-users`, flag);
      }
      const model = VasgModel.load(options.model);
      const recommendations = await model.recommend(options.user, options.k, { includeCold: options.cold });
      if (options.json) {
        console.log(JSON.stringify({ user: options.user, recommendations }));
        return;
      }
      if (recommendations.length > 0) console.log(recommendationTable(recommendations));
    });
}

/**
 * One line per product: rank, id, score, cold mark. The id column is padded to the widest id's *display*
 * width (a CJK character takes two terminal cells, a combining accent none), so scores line up.
 */
export function recommendationTable(recommendations: Array<{ itemId: string; score: number; cold: boolean }>): string {
  const width = Math.max(16, ...recommendations.map((r) => stringWidth(r.itemId)));
  return recommendations.map((r, rank) => `${String(rank + 1).padStart(3)}. ${r.itemId}${' '.repeat(width - stringWidth(r.itemId))} ` +
    `${r.score.toFixed(4)}${r.cold ? '  (cold)' : ''}`).join('\n');
}
