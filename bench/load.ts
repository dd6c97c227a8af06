// The "load" bench section (`npm run bench -- --only load [--load-preset men]`): what checking the completion
// marker's sizes and CRC-32s costs when a prepared split is loaded. The split is generated and written here
// (not timed); then, three times each with the files in the page cache, the check alone
// (openWrittenDirectory) and the whole loadSplit, which includes it.
import fs from 'node:fs';
import path from 'node:path';
import { openWrittenDirectory } from '../src/data/atomic.js';
import { generate, type PresetName } from '../src/data/generate.js';
import { loadSplit, prepareSplit, writeSplit } from '../src/data/split.js';

export interface LoadBenchOptions {
  preset: PresetName;
  work: string;
  log: (line: string) => void;
}

function medianSeconds(run: () => void): number {
  const times = [0, 1, 2].map(() => {
    const start = process.hrtime.bigint();
    run();
    return Number(process.hrtime.bigint() - start) / 1e9;
  });
  return times.sort((a, b) => a - b)[1];
}

export function loadBench({ preset, work, log }: LoadBenchOptions): Record<string, number> {
  log(`load: generating and preparing ${preset} (not timed)`);
  const dir = path.join(work, 'split');
  writeSplit(dir, prepareSplit(generate(preset, 1), { seed: 1 }));
  const bytes = fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
  log('load: timing');
  const checkSeconds = medianSeconds(() => openWrittenDirectory(dir));
  const loadSeconds = medianSeconds(() => loadSplit(dir));
  return { splitMB: bytes / 1e6, checkSeconds, loadSplitSeconds: loadSeconds, checkShare: checkSeconds / loadSeconds };
}
