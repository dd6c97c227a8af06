// The "soak" bench section (`npm run bench -- --only soak --soak-minutes N`): `vasg serve` on a tiny model
// under mixed reads and writes at a fixed rate from several connections, killed with SIGKILL and restarted
// every few seconds, with a small --compact-bytes so that log compactions run (and are killed) all along.
// At the end the server is stopped cleanly and the model directory opened: every acknowledged write must be
// there exactly once (products, availability, folded-in users), and no request may have had a 5xx answer.
// Requests refused while the server is down (connection errors) are counted apart: their outcome is unknown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate, prepareSplit, train } from '../src/index.js';
import { Catalog } from '../src/serve/catalog.js';
import { WriteLog } from '../src/serve/write-log.js';
import { startServe } from './serve.js';

export interface SoakOptions {
  minutes: number;
  /** Requests per second, all connections together. */
  rate: number;
  connections: number;
  /** Mean seconds between two kills (each wait drawn uniformly in [0.5, 1.5] × this, fixed seed). */
  killSeconds: number;
  /** `vasg serve --compact-bytes`: small, so that compactions run often. */
  compactBytes: number;
  log: (line: string) => void;
}

/** What the clients were told: acknowledged writes, and writes whose answer never came (they may or may not have landed). */
interface Ledger {
  items: Set<string>;
  /** Per product whose availability is written: the values it may hold now (the last acknowledged one and any unanswered after it). */
  availability: Map<string, Set<boolean>>;
  users: Map<string, string[]>;
}

interface Counts {
  requests: number; reads: number; writes_acknowledged: number; item_writes_acknowledged: number;
  refused_while_down: number; status_5xx: number; status_4xx: number; read_misses: number;
}

export async function soakBench(options: SoakOptions) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vasg-bench-soak-'));
  const dir = path.join(work, 'model');
  try {
    options.log('soak: training a tiny model');
    const split = prepareSplit(generate('tiny', 1), { seed: 1 });
    const { model } = await train(split, { config: { seed: 1, epochs: 1, dim: 16, threads: 1 } });
    model.save(dir);
    const baseItems = model.parts.itemIds.slice();
    const users = model.parts.userIds.slice();
    const featureDim = split.features.cols;
    const serveArgs = ['--compact-bytes', String(options.compactBytes)];

    let server = await startServe(dir, serveArgs);
    const ledger: Ledger = { items: new Set(), availability: new Map(), users: new Map() };
    const counts: Counts = { requests: 0, reads: 0, writes_acknowledged: 0, item_writes_acknowledged: 0, refused_while_down: 0, status_5xx: 0, status_4xx: 0, read_misses: 0 };
    const problems: string[] = [];
    const end = Date.now() + options.minutes * 60_000;
    const random = seeded(7);

    const call = async (method: string, url: string, body?: unknown): Promise<number | null> => {
      counts.requests++;
      try {
        const response = await fetch(server.address + url, {
          method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
        });
        await response.arrayBuffer();
        if (response.status >= 500) counts.status_5xx++;
        else if (response.status >= 400) counts.status_4xx++;
        if (response.status >= 400 && problems.length < 20) problems.push(`${method} ${url}: ${response.status}`);
        return response.status;
      } catch {
        counts.refused_while_down++;
        return null;
      }
    };

    /** One connection: a request every `connections / rate` seconds, the mix drawn from its own seeded stream. */
    const client = async (c: number) => {
      const draw = seeded(100 + c);
      const interval = (1000 * options.connections) / options.rate;
      const owned = baseItems.filter((_, i) => i % options.connections === c); // availability writes: one writer per product
      let next = Date.now();
      for (let n = 0; Date.now() < end; n++) {
        next += interval;
        const r = draw();
        if (r < 0.4) {
          counts.reads++;
          await call('GET', `/users/${encodeURIComponent(users[Math.floor(draw() * users.length)])}/recommendations?k=10`);
        } else if (r < 0.55 && ledger.items.size > 0) {
          // Read-your-writes: an acknowledged product must answer 200 at any time.
          counts.reads++;
          const known = [...ledger.items][Math.floor(draw() * ledger.items.size)];
          if ((await call('GET', `/items/${encodeURIComponent(known)}/similar?k=5`)) === 404) counts.read_misses++;
        } else if (r < 0.85) {
          const id = `soak-${c}-${n}`;
          const status = await call('POST', '/items', { items: [{ id, title: `t${n}`, category: `c${c}`, features: Array.from({ length: featureDim }, () => draw()) }] });
          if (status === 200) { ledger.items.add(id); counts.writes_acknowledged++; counts.item_writes_acknowledged++; }
        } else if (r < 0.95) {
          const id = owned[Math.floor(draw() * owned.length)];
          const available = draw() < 0.5;
          const status = await call('PATCH', `/items/${encodeURIComponent(id)}`, { available });
          const possible = ledger.availability.get(id) ?? new Set([true]);
          if (status === 200) { ledger.availability.set(id, new Set([available])); counts.writes_acknowledged++; } else if (status === null) ledger.availability.set(id, possible.add(available));
        } else {
          const user = `soak-user-${c}-${n}`;
          const items = [baseItems[Math.floor(draw() * baseItems.length)], baseItems[Math.floor(draw() * baseItems.length)]];
          if ((await call('POST', `/users/${user}/events`, { items })) === 200) { ledger.users.set(user, items); counts.writes_acknowledged++; }
        }
        const wait = next - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        else next = Date.now(); // behind (a restart): no burst to catch up
      }
    };

    /** Kills the server with SIGKILL every few seconds and starts it again at once. */
    const killer = async () => {
      const kills = { kills: 0, kills_during_compaction: 0, restart_ms_max: 0, restart_ms_total: 0 };
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, options.killSeconds * 1000 * (0.5 + random())));
        if (Date.now() >= end) return kills;
        const exited = new Promise((resolve) => server.child.once('exit', resolve));
        server.child.kill('SIGKILL');
        await exited;
        kills.kills++;
        if (fs.existsSync(WriteLog.rotatedFile(`${dir}.writes.log`))) kills.kills_during_compaction++;
        const started = Date.now();
        server = await startServe(dir, serveArgs);
        const ms = Date.now() - started;
        kills.restart_ms_max = Math.max(kills.restart_ms_max, ms);
        kills.restart_ms_total += ms;
        if (kills.kills % 20 === 0) options.log(`soak: ${kills.kills} kills, ${counts.requests} requests, ${counts.writes_acknowledged} writes acknowledged`);
      }
    };

    options.log(`soak: ${options.minutes} min at ${options.rate} requests/s over ${options.connections} connections, SIGKILL every ~${options.killSeconds} s`);
    const [kills] = await Promise.all([killer(), ...Array.from({ length: options.connections }, (_, c) => client(c))]);
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
    const check = await verify(dir, ledger);
    return {
      minutes: options.minutes, rate_per_s: options.rate, connections: options.connections, kill_every_s: options.killSeconds, compact_bytes: options.compactBytes,
      ...counts, kills: kills.kills, kills_during_compaction: kills.kills_during_compaction,
      restart_ms_mean: Math.round(kills.restart_ms_total / Math.max(1, kills.kills)), restart_ms_max: kills.restart_ms_max,
      ...check, problems,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Opens the directory as the next server would and compares it with what the clients were told. */
async function verify(dir: string, ledger: Ledger) {
  const catalog = await Catalog.open(dir);
  try {
    const ids = catalog.model.parts.itemIds;
    const seen = new Map<string, number>();
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    const lostItems = [...ledger.items].filter((id) => !seen.has(id));
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    const wrongAvailability = [...ledger.availability].filter(([id, possible]) => !possible.has(catalog.item(catalog.model.itemIndexOf(id)).available)).map(([id]) => id);
    const lostUsers = [...ledger.users].filter(([user, items]) => {
      try {
        const bought = new Set(catalog.purchases(user).map((p) => p.id));
        return !items.every((id) => bought.has(id));
      } catch {
        return true; // unknown user: the fold-in was lost
      }
    }).map(([user]) => user);
    return {
      lost: lostItems.length + wrongAvailability.length + lostUsers.length,
      lost_items: lostItems.slice(0, 10), wrong_availability: wrongAvailability.slice(0, 10), lost_users: lostUsers.slice(0, 10),
      duplicated_ids: duplicated.length, products_at_end: ids.length,
    };
  } finally {
    await catalog.close();
  }
}

/** A small deterministic generator in [0, 1) (Park–Miller): the same request mix on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}
