// Two models on live traffic (`vasg serve --model A --model-b B`): a stable hash of the user id picks the
// arm, every recommendation list shown is an impression, and an event that later hits a product of an
// impression within the attribution window makes it clicked (a "click" event) or converted (a "purchase").
// Each impression is one Bernoulli trial per outcome, so the rates are proportions: Wilson 95 % intervals, and
// a pooled two-proportion z-test of B − A. Impressions and outcomes are records of their own write log
// (`A.experiment.log`, beside A's directory, under A's lock), fsync'd before the answer like every write.
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { PURCHASE, type UserEvent } from './events.js';
import { WriteLog } from './write-log.js';

export type Arm = 'A' | 'B';
export const ARMS: readonly Arm[] = ['A', 'B'];

/** The experiment's write-log records (what `vasg ab-report` reads). `time`: ISO-8601 UTC. */
export type ExperimentRecord =
  | { op: 'impression'; n: number; arm: Arm; user: string; items: string[]; time: string }
  | { op: 'outcome'; n: number; kind: 'click' | 'conversion' };

/** The event type that makes an impression clicked; a purchase converts it. */
export const CLICK = 'click';

export interface Proportion {
  successes: number;
  trials: number;
  rate: number;
  /** Wilson score interval, 95 %. */
  low: number;
  high: number;
}

export interface ArmReport {
  users: number;
  impressions: number;
  clicks: number;
  conversions: number;
  click_through: Proportion;
  conversion: Proportion;
}

export interface Difference {
  /** rate(B) − rate(A). */
  difference: number;
  z: number;
  /** Two-sided p-value of the pooled two-proportion z-test (null when a rate is undefined or both are 0 or 1). */
  p_value: number | null;
  /** The arm with the higher rate when p < 0.05, else null (no significant difference). */
  better: Arm | null;
}

export interface ExperimentReport {
  arms: Record<Arm, ArmReport>;
  click_through: Difference;
  conversion: Difference;
}

interface Impression { n: number; arm: Arm; items: Set<string>; time: number; clicked: boolean; converted: boolean }

export class Experiment {
  private readonly counts = { A: newCounts(), B: newCounts() };
  /** Per user, the impressions still inside the attribution window, oldest first. */
  private readonly recent = new Map<string, Impression[]>();
  private next = 0;
  private log: WriteLog | null = null;

  constructor(readonly trafficB: number, readonly windowMs: number) {
    if (!(trafficB >= 0 && trafficB <= 1)) throw new InputError(`--traffic-b must be in [0, 1], got ${trafficB}`, 'traffic-b');
  }

  /**
   * Replays the experiment's log (a torn last record dropped, as for the write log) and keeps appending to it.
   * `readOnly`: report only (`vasg ab-report` beside a running server): nothing is written or truncated.
   */
  static open(file: string, trafficB = 0.5, windowMs = 24 * 3600e3, options: { readOnly?: boolean; repair?: boolean } = {}): Experiment {
    const experiment = new Experiment(trafficB, windowMs);
    for (const record of WriteLog.replay(file, options) as ExperimentRecord[]) experiment.apply(record);
    if (!options.readOnly) experiment.log = new WriteLog(file);
    return experiment;
  }

  /** The user's arm: the first 32 bits of SHA-256 of the id, as a fraction, below trafficB → B. The same user always gets the same arm. */
  arm(user: string): Arm {
    return createHash('sha256').update(user).digest().readUInt32BE(0) / 2 ** 32 < this.trafficB ? 'B' : 'A';
  }

  /** Records a list shown to a user (logged before the answer goes out). */
  impression(arm: Arm, user: string, items: string[], now = new Date()): void {
    this.write({ op: 'impression', n: this.next, arm, user, items, time: now.toISOString() });
  }

  /** Attributes a user's events: a click or purchase of a product shown within the window marks the latest such impression. */
  events(user: string, events: UserEvent[]): void {
    for (const event of events) {
      const kind = event.type === CLICK ? 'click' : event.type === PURCHASE ? 'conversion' : null;
      if (!kind) continue;
      const at = event.time === null ? Date.now() : Date.parse(event.time);
      const hit = (this.recent.get(user) ?? []).filter((imp) => imp.items.has(event.item) && imp.time <= at && at <= imp.time + this.windowMs
        && !(kind === 'click' ? imp.clicked : imp.converted)).at(-1);
      if (hit) this.write({ op: 'outcome', n: hit.n, kind });
    }
  }

  close(): void {
    this.log?.close();
    this.log = null;
  }

  report(): ExperimentReport {
    const arms = Object.fromEntries(ARMS.map((arm) => {
      const c = this.counts[arm];
      return [arm, {
        users: c.users.size, impressions: c.impressions, clicks: c.clicks, conversions: c.conversions,
        click_through: proportion(c.clicks, c.impressions), conversion: proportion(c.conversions, c.impressions),
      }];
    })) as Record<Arm, ArmReport>;
    return { arms, click_through: compare(arms.A.click_through, arms.B.click_through), conversion: compare(arms.A.conversion, arms.B.conversion) };
  }

  private write(record: ExperimentRecord): void {
    this.apply(record);
    this.log?.append(record);
  }

  private apply(record: ExperimentRecord): void {
    if (record.op === 'impression') {
      const c = this.counts[record.arm];
      c.users.add(record.user);
      c.impressions++;
      const time = Date.parse(record.time);
      // Impressions past the window can no longer be hit: dropped, so memory follows the traffic of one window.
      const kept = (this.recent.get(record.user) ?? []).filter((imp) => imp.time + this.windowMs >= time || !this.byNumber.delete(imp.n));
      const impression = { n: record.n, arm: record.arm, items: new Set(record.items), time, clicked: false, converted: false };
      kept.push(impression);
      this.recent.set(record.user, kept);
      this.byNumber.set(record.n, impression);
      this.next = Math.max(this.next, record.n + 1);
      return;
    }
    const impression = this.byNumber.get(record.n);
    if (!impression) return; // cannot happen: an outcome is written for a kept impression, and replay keeps the same ones
    const c = this.counts[impression.arm];
    if (record.kind === 'click' && !impression.clicked) { impression.clicked = true; c.clicks++; }
    if (record.kind === 'conversion' && !impression.converted) { impression.converted = true; c.conversions++; }
  }

  private readonly byNumber = new Map<number, Impression>();
}

function newCounts() {
  return { users: new Set<string>(), impressions: 0, clicks: 0, conversions: 0 };
}

const Z95 = 1.959963984540054;

/** A rate with its Wilson 95 % interval (sound near 0 and 1, unlike the normal approximation). */
export function proportion(successes: number, trials: number): Proportion {
  if (trials === 0) return { successes, trials, rate: 0, low: 0, high: 0 };
  const p = successes / trials;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (Z95 / (1 + z2 / trials)) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { successes, trials, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Pooled two-proportion z-test of B − A, two-sided. */
export function compare(a: Proportion, b: Proportion): Difference {
  const difference = b.rate - a.rate;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (!(se > 0)) return { difference, z: 0, p_value: null, better: null };
  const z = difference / se;
  const p = 2 * (1 - normalCdf(Math.abs(z)));
  return { difference, z, p_value: p, better: p < 0.05 ? (z > 0 ? 'B' : 'A') : null };
}

/** Φ(x) via erf (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
