// §6 sensitivity: warm/cold AUC of VASG as one setting varies, the others at their defaults —
// embedding size D, skip-gram window, encoder input noise, decoder (ablation), negatives.
import type { Split } from '../data/types.js';
import { resolveConfig, type TrainConfig } from '../model/config.js';
import { evaluateAuc } from '../eval/auc.js';
import { vasgScorer, type ExperimentOptions } from './auc.js';
import { summarize, type Stat } from './stats.js';

export interface SensitivityPoint {
  value: number | string | boolean;
  warm: Stat;
  cold: Stat;
}

export interface SensitivitySeries {
  parameter: keyof TrainConfig;
  points: SensitivityPoint[];
}

/** The grid of the paper's §6 (D, window, noise, decoder) plus negative sampling. */
export function sensitivityGrid(defaults: TrainConfig): Array<{ parameter: keyof TrainConfig; values: Array<number | boolean> }> {
  return [
    { parameter: 'dim', values: [10, 30, 50, 70, 100, 150] },
    { parameter: 'window', values: [3, 5, 7, 9] },
    { parameter: 'encoderNoise', values: [0, defaults.encoderNoise || 0.05] },
    { parameter: 'decoder', values: [false, true] },
    { parameter: 'negatives', values: [0, defaults.negatives || 5] },
  ];
}

export async function sensitivityExperiment(split: Split, options: ExperimentOptions): Promise<{ series: SensitivitySeries[] }> {
  const defaults = resolveConfig({ ...options.config, threads: options.threads });
  const series: SensitivitySeries[] = [];
  for (const { parameter, values } of sensitivityGrid(defaults)) {
    const points: SensitivityPoint[] = [];
    for (const value of values) {
      const warm: number[] = [];
      const cold: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        options.progress.log(`sensitivity ${parameter} = ${value}: run ${run + 1}/${options.runs}`);
        const config = resolveConfig({ ...defaults, [parameter]: value, seed: options.seed + run });
        const result = await evaluateAuc(await vasgScorer(split, config, options.progress, 'VASG'), split, options.threads);
        warm.push(result.warm);
        cold.push(result.cold);
      }
      points.push({ value, warm: summarize(warm), cold: summarize(cold) });
    }
    series.push({ parameter, points });
  }
  return { series };
}
