// `npm run bench:import [-- --gb 2 --keep 0.25]`: peak memory of `vasg import amazon` against the bytes of
// the features it keeps, on a generated .b file of the given size (4096-d records, as the public files)
// with metadata and one review per product. Everything is written under the OS temp folder and deleted.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordBytes } from '../src/data/formats/amazonfeatures.js';

const flag = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const gb = flag('--gb', 2);
const keep = flag('--keep', 0.25);
const dim = 4096;
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vasg.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bench-import-'));
try {
  const rec = recordBytes(dim);
  const n = Math.floor((gb * 2 ** 30) / rec);
  const asin = (i: number) => `B${String(i).padStart(9, '0')}`;
  // Every 1/keep-th product is in the selected category.
  const selected = (i: number) => i % Math.round(1 / keep) === 0;
  const meta: string[] = [];
  const reviews: string[] = [];
  for (let i = 0; i < n; i++) {
    meta.push(`{'asin': '${asin(i)}', 'title': u'Product ${i}', 'categories': [['Shop', '${selected(i) ? 'Kept' : 'Other'}']]}`);
    reviews.push(JSON.stringify({ reviewerID: `U${i % 5000}`, asin: asin(i), overall: 5, unixReviewTime: 1400000000 + i }));
  }
  fs.writeFileSync(path.join(dir, 'meta.json'), meta.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'reviews.json'), reviews.join('\n') + '\n');
  const b = path.join(dir, 'features.b');
  const fd = fs.openSync(b, 'w');
  const chunk = Buffer.alloc(rec * 256);
  for (let i = 0; i < n; i += 256) {
    const m = Math.min(256, n - i);
    for (let r = 0; r < m; r++) {
      chunk.write(asin(i + r), r * rec, 'latin1');
      chunk.writeFloatLE(i + r, r * rec + 10); // the rest stays zero
    }
    fs.writeSync(fd, chunk, 0, m * rec);
  }
  fs.closeSync(fd);
  const start = process.hrtime.bigint();
  // GNU time reports the child's peak RSS (kB) on stderr's last line.
  const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'import', 'amazon', '--reviews', path.join(dir, 'reviews.json'), '--meta', path.join(dir, 'meta.json'),
    '--features', b, '--category', 'Shop/Kept', '--out', path.join(dir, 'out'), '--json'], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`import failed:\n${run.stderr}`);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const report = JSON.parse(run.stdout);
  const peakRssMiB = Number(run.stderr.trim().split('\n').pop()) / 1024;
  console.log(JSON.stringify({
    featureFileGiB: fs.statSync(b).size / 2 ** 30,
    records: n,
    keptProducts: report.items,
    keptFeatureMiB: (report.items * dim * 4) / 2 ** 20,
    featuresNpyMiB: fs.statSync(path.join(dir, 'out/features.npy')).size / 2 ** 20,
    peakRssMiB,
    seconds,
  }));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
