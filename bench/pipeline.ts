// Child process of the benchmark: prepare (writing the split and reading it back) → train → evaluate with default settings, then its
// own wall time and peak RSS as JSON (a separate process so the RSS is the pipeline's alone), with the
// seconds of each stage (prepare, setup, walks, skip-gram, decoder, visual term, ranking, encoder, evaluation).
// `seconds` is the pipeline: prepare, train and the model's evaluation; the reference rows `vasg evaluate` prints
// beside it (RAND, MostPop, WBOI, Oracle: WBOI alone scores 4096-wide rows for every user) are timed after it as
// `baselines`, and `seconds_with_baselines` is the whole run.
// Alone: `node dist/bench/pipeline.js DATA_DIR RUN_DIR` (RUN_DIR is written: the split and the model).
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../src/data/dataset.js';
import { loadSplit, prepareSplit, writeSplit } from '../src/data/split.js';
import { resolveConfig } from '../src/model/config.js';
import { trainVasg } from '../src/model/train.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { evaluateAuc } from '../src/eval/auc.js';
import { consoleProgress } from '../src/progress.js';
import { provenance } from '../src/experiments/provenance.js';

const [dataDir, runDir] = process.argv.slice(2);
const progress = consoleProgress();
const threads = Math.max(1, os.availableParallelism());
const start = Date.now();
/** Peak RSS of the process so far (the high-water mark after a stage, not the stage's own). */
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
// As `vasg prepare` then `vasg train`: the split is written with its feature rows copied file to file, then read.
const { dataset } = loadDataset(dataDir, progress, 'on-disk');
writeSplit(path.join(runDir, 'split'), prepareSplit(dataset, { seed: 1 }, progress));
const split = loadSplit(path.join(runDir, 'split'));
const prepareSeconds = (Date.now() - start) / 1000;
const prepareRss = peakMb();
const config = resolveConfig({ threads });
const trained = await trainVasg(split, config, progress);
trained.model.save(path.join(runDir, 'model'));
const trainSeconds = trained.seconds;
const trainRss = peakMb();
const evaluateStart = Date.now();
const own = await evaluateAuc({ name: 'VASG', ...trained.model.rankingMatrices() }, split, threads);
const evaluationSeconds = (Date.now() - evaluateStart) / 1000;
const pipelineSeconds = (Date.now() - start) / 1000;
const evaluationRss = peakMb();
const baselinesStart = Date.now();
const report = await evaluateModel(trained.model, split, { threads, seed: 1, progress });
if (report.auc.combined !== own.combined) throw new Error(`the model's evaluation differs: ${own.combined} alone, ${report.auc.combined} in evaluateModel`);
const round = (x: number) => +x.toFixed(2);
console.log(JSON.stringify({
  seconds: +pipelineSeconds.toFixed(1),
  seconds_with_baselines: +((Date.now() - start) / 1000).toFixed(1),
  train_seconds: +trainSeconds.toFixed(1),
  peak_rss_mb: peakMb(),
  // Where the time went (src/model/train.ts StageSeconds), and the peak RSS reached by the end of each step.
  stages_seconds: {
    prepare: round(prepareSeconds), ...Object.fromEntries(Object.entries(trained.stages).map(([k, v]) => [k, round(v)])),
    evaluation: round(evaluationSeconds),
    baselines: round((Date.now() - baselinesStart) / 1000),
  },
  peak_rss_mb_after: { prepare: prepareRss, train: trainRss, evaluation: evaluationRss, baselines: peakMb() },
  auc_warm: +report.auc.warm.toFixed(4),
  auc_cold: +report.auc.cold.toFixed(4),
  auc_combined: +report.auc.combined.toFixed(4),
  recall20_warm: +report['recall@20'].warm.toFixed(4),
  mostpop: report.baselines.mostpop,
  wboi: report.baselines.wboi,
  oracle: report.oracle,
  provenance: provenance({ dir: dataDir, users: split.userIds.length, items: split.itemIds.length, splitSeed: 1 }, process.argv, 'node dist/bench/pipeline.js'),
}));
