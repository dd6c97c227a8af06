// `vasg export-events`: a served model's logged products and events plus its training data → the next training set.
import { Command } from 'commander';
import { checkOutputDirectory } from '../data/atomic.js';
import { DATASET_FILES, writeDataset } from '../data/dataset.js';
import { exportEvents } from '../serve/export-events.js';

export function exportEventsCommand(): Command {
  return new Command('export-events')
    .description('turn what "vasg serve" logged (new products with features, user events) plus the model\'s training data into the next training set (standard layout)')
    .requiredOption('--model <dir>', 'the served model directory (its serve_state.json and the DIR.writes.log beside it are read, never changed)')
    .requiredOption('--out <dir>', 'data set directory to write (atomically)')
    .option('--data <dir>', 'the training data set, when the model does not record it (models trained before this command, or on a prepared split)')
    .option('--json', 'print a JSON summary only')
    .action((options) => {
      checkOutputDirectory(options.out, DATASET_FILES.interactions);
      const { dataset, report } = exportEvents(options.model, options.data);
      writeDataset(options.out, dataset);
      if (options.json) console.log(JSON.stringify({ out: options.out, ...report }));
      else {
        console.log(`wrote ${options.out}: ${report.interactions} interactions (${report.trainingInteractions} from ${report.data}, ${report.newPairs} new pairs ` +
          `from ${report.events} logged events, ${report.newUsers} new users), ${report.addedProducts} added products`);
      }
    });
}
