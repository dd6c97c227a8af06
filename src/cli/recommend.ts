// `vasg recommend`: top-k unseen products for a user, cold products included and marked.
import { Command, Option } from 'commander';
import stringWidth from 'string-width';
import { VasgModel } from '../model/vasg-model.js';
import { int } from './options.js';

export function recommendCommand(): Command {
  return new Command('recommend')
    .description('top-k products a user has not interacted with, by the model\'s score')
    .requiredOption('--model <dir>', 'model directory')
    .requiredOption('--user <id>', 'user id')
    .addOption(new Option('-k, --k <n>', 'number of products').argParser(int(1, 100000)).default(10))
    .option('--no-cold', 'leave out cold products (never seen in training)')
    .option('--json', 'print JSON')
    .action(async (options) => {
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
