// Typed events (purchase, cart, click, view, …): the optional `event_type` column of interactions.csv, and the
// training weight of each pair: the weight of its strongest event type, decayed by its age (half-life in days).
// Views and clicks are plentiful but noisy signals of taste; weighting lets training use them without letting
// them count as much as a purchase.
import { ConfigError, InputError } from '../errors.js';
import type { EventTypes, Interactions } from './types.js';

/** The type of an interaction without an event type (no column, or an empty field). */
export const DEFAULT_EVENT_TYPE = 'purchase';
/** Types are kept as bits of a 32-bit mask per pair. */
const MAX_TYPES = 32;
const TYPE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The weights of `--event-weights purchase=1,cart=0.5,click=0.2,view=0.05`. */
export type EventWeights = Record<string, number>;

export const DEFAULT_EVENT_WEIGHTS: EventWeights = { purchase: 1, cart: 0.5, click: 0.2, view: 0.05 };

/** Why a type name is invalid, or null when it is valid. */
export function eventTypeProblem(name: string): string | null {
  return TYPE_NAME.test(name) ? null : `expected an event type of letters, digits, "_", "-" or "." (at most 64), found ${JSON.stringify(name)}`;
}

/** Collects the distinct types of a file's rows as bits; `where` names the row for errors ("interactions.csv:12"). */
export class EventTypeCollector {
  private readonly names: string[] = [];
  private readonly firstSeen: string[] = [];
  private readonly bits = new Map<string, number>();

  /** The bit of `name` (registering it on first sight); throws an InputError naming `where` for a bad name or a 33rd type. */
  bit(name: string, where: string, file: string): number {
    const known = this.bits.get(name);
    if (known !== undefined) return 1 << known;
    const problem = eventTypeProblem(name);
    if (problem) throw new InputError(`${where}: field "event_type": ${problem}`, file);
    if (this.names.length === MAX_TYPES) {
      throw new InputError(`${where}: field "event_type": more than ${MAX_TYPES} distinct event types (${this.names.join(', ')}, ${name})`, file);
    }
    this.bits.set(name, this.names.length);
    this.names.push(name);
    this.firstSeen.push(where);
    return 1 << (this.names.length - 1);
  }

  /** The record for `types` (one mask per pair), or undefined when no row had a type column. */
  result(types: number[]): EventTypes {
    return { typeNames: [...this.names], types: Uint32Array.from(types), firstSeen: [...this.firstSeen] };
  }
}

/** The type names set in `mask`, in the order of `typeNames`. */
export function typesOf(mask: number, typeNames: readonly string[]): string[] {
  return typeNames.filter((_, t) => (mask >>> t) & 1);
}

/** Events restricted to the pairs `positions` (in that order), or undefined when there are none. */
export function selectEvents(events: EventTypes | undefined, positions: ArrayLike<number>): EventTypes | undefined {
  if (!events) return undefined;
  return { ...events, types: Uint32Array.from({ length: positions.length }, (_, k) => events.types[positions[k]]) };
}

/** Parses `purchase=1,cart=0.5`; throws a ConfigError naming the bad entry. */
export function parseEventWeights(text: string): EventWeights {
  const weights: EventWeights = {};
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e.length > 0)) {
    const match = /^([^=]+)=(.+)$/.exec(entry);
    const name = match?.[1].trim() ?? '';
    const value = Number(match?.[2].trim());
    if (!match || eventTypeProblem(name) || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`--event-weights: expected entries type=weight (weight ≥ 0) such as purchase=1,view=0.05, found "${entry}"`, 'eventWeights');
    }
    weights[name] = value;
  }
  return weights;
}

export function formatEventWeights(weights: EventWeights): string {
  return Object.entries(weights).map(([name, w]) => `${name}=${w}`).join(',');
}

/** Whether `value` is a valid weights record (for the option table). */
export function validEventWeights(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.length > 0 && entries.every(([name, w]) => eventTypeProblem(name) === null && typeof w === 'number' && Number.isFinite(w) && w >= 0);
}

export interface WeightingOptions {
  eventWeights: EventWeights;
  /** 0: no decay; otherwise an event `halfLifeDays` older than the newest one counts half. */
  halfLifeDays: number;
}

/** Whether training weighs pairs at all: the data has event types, or old events decay. */
export function weighsEvents(train: Interactions, options: WeightingOptions): boolean {
  return train.events !== undefined || options.halfLifeDays > 0;
}

/**
 * The training weight of every pair: the largest weight among its event types (a purchase after a view counts as
 * a purchase), times 0.5^(age / half-life), age measured from the newest timestamp of the data (so a retrain on the
 * same data gives the same weights); a pair without a timestamp does not decay. A type in the data without a weight
 * is a ConfigError naming where it was first seen.
 */
export function pairWeights(train: Interactions, options: WeightingOptions): Float32Array {
  const n = train.users.length;
  const typeWeight = typeWeights(train.events, options.eventWeights);
  const weights = new Float32Array(n);
  let newest = -Infinity;
  for (const t of train.timestamps) if (t > newest) newest = t;
  const decayPerSecond = options.halfLifeDays > 0 ? Math.LN2 / (options.halfLifeDays * 86400) : 0;
  for (let k = 0; k < n; k++) {
    let w = 0;
    const mask = train.events ? train.events.types[k] : 1;
    for (let t = 0; t < typeWeight.length; t++) if ((mask >>> t) & 1) w = Math.max(w, typeWeight[t]);
    const age = newest - train.timestamps[k];
    weights[k] = decayPerSecond > 0 && Number.isFinite(age) ? w * Math.exp(-decayPerSecond * age) : w;
  }
  return weights;
}

/** The weight of each type bit (untyped data: bit 0 is a purchase). */
function typeWeights(events: EventTypes | undefined, eventWeights: EventWeights): number[] {
  const names = events?.typeNames ?? [DEFAULT_EVENT_TYPE];
  return names.map((name, t) => {
    const w = eventWeights[name];
    if (w === undefined) {
      const where = events?.firstSeen[t] ?? 'the training data';
      throw new ConfigError(`${where}: event type "${name}" has no weight in --event-weights ${formatEventWeights(eventWeights)}; ` +
        `add ${name}=W (0 leaves these events out)`, 'eventWeights');
    }
    return w;
  });
}
