// Child process of the benchmark: prepare → train → evaluate with default settings, then its
// own wall time and peak RSS as JSON (a separate process so the RSS is the pipeline's alone).
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../src/data/dataset.js';
import { prepareSplit, writeSplit } from '../src/data/split.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { consoleProgress } from '../src/progress.js';

const [dataDir, runDir] = process.argv.slice(2);
const progress = consoleProgress();
const threads = Math.max(1, os.availableParallelism());
const start = Date.now();
const { dataset } = loadDataset(dataDir, progress);
const split = prepareSplit(dataset, { seed: 1 }, progress);
writeSplit(path.join(runDir, 'split'), split);
const config = resolveConfig({ threads });
const trained = await trainVasg(split, config, progress);
trained.model.save(path.join(runDir, 'model'));
const trainSeconds = trained.seconds;
const report = await evaluateModel(trained.model, split, { threads, seed: 1, progress });
console.log(JSON.stringify({
  seconds: +((Date.now() - start) / 1000).toFixed(1),
  train_seconds: +trainSeconds.toFixed(1),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  auc_warm: +report.auc.warm.toFixed(4),
  auc_cold: +report.auc.cold.toFixed(4),
  auc_combined: +report.auc.combined.toFixed(4),
  recall20_warm: +report['recall@20'].warm.toFixed(4),
  mostpop: report.baselines.mostpop,
  wboi: report.baselines.wboi,
  oracle: report.oracle,
}));
