// Typed user events (purchase, cart, click, view, …) and their weights: what `POST /users/{id}/events`
// takes, what the write log records, and how a folded-in user is made from them (the weighted mean of the
// products' vectors). A product counts once per user, with the largest weight of its events: a view followed
// by a purchase is a purchase, and replaying an event already applied changes nothing (the log's rule).
import { ConfigError, InputError } from '../errors.js';

/** One event as the write log and serve_state.json record it. `time`: ISO-8601 UTC, or null when unknown (the old `{"items"}` body). */
export interface UserEvent {
  item: string;
  type: string;
  time: string | null;
}

export type EventWeights = Readonly<Record<string, number>>;

/** Default of `vasg serve --event-weights` when the model's config names none. */
export const DEFAULT_EVENT_WEIGHTS: EventWeights = { purchase: 1, cart: 0.5, click: 0.2, view: 0.05 };

/** The event type of the `{"items": [...]}` body and of trained purchases. */
export const PURCHASE = 'purchase';

const TYPE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * `purchase=1,cart=0.5,…` (the flag, or a model config's `eventWeights` string) or an object of the same.
 * Weights are finite and > 0 (a weight of 0 would make a user of views only a zero vector); `purchase` must be
 * there, since the `{"items"}` body and training purchases are purchases.
 */
export function parseEventWeights(value: string | Record<string, unknown>, source = '--event-weights'): EventWeights {
  const entries = typeof value === 'string'
    ? value.split(',').filter((part) => part.trim() !== '').map((part) => {
      const [name, weight, extra] = part.split('=');
      if (weight === undefined || extra !== undefined) throw new ConfigError(`${source}: "${part}" is not TYPE=WEIGHT (e.g. purchase=1,cart=0.5,click=0.2,view=0.05)`, source);
      return [name.trim(), Number(weight)] as const;
    })
    : Object.entries(value).map(([name, weight]) => [name, typeof weight === 'number' ? weight : Number.NaN] as const);
  const weights: Record<string, number> = {};
  for (const [name, weight] of entries) {
    if (!TYPE_NAME.test(name)) throw new ConfigError(`${source}: event type "${name}" must be lower-case letters, digits, "_" or "-" (at most 64)`, source);
    if (!(Number.isFinite(weight) && weight > 0 && weight <= 1e6)) throw new ConfigError(`${source}: the weight of "${name}" must be a number in (0, 1e6], got ${String(weight)}`, source);
    if (name in weights) throw new ConfigError(`${source}: "${name}" is given twice`, source);
    weights[name] = weight;
  }
  if (!(PURCHASE in weights)) throw new ConfigError(`${source}: must give a weight for "purchase" (the {"items"} body and trained purchases are purchases)`, source);
  return weights;
}

/**
 * The weights a server uses: the flag's, else the model's config (`eventWeights`, written by training when it
 * used typed events), else the defaults.
 */
export function resolveEventWeights(flag: EventWeights | undefined, modelConfig: unknown): EventWeights {
  if (flag) return flag;
  const fromModel = (modelConfig as { eventWeights?: unknown } | null)?.eventWeights;
  if (typeof fromModel === 'string' || (typeof fromModel === 'object' && fromModel !== null)) {
    return parseEventWeights(fromModel as string | Record<string, unknown>, 'the model\'s config "eventWeights"');
  }
  return DEFAULT_EVENT_WEIGHTS;
}

/** An event as posted: `time` ISO-8601 or epoch seconds, default now. */
export interface PostedEvent {
  item: string;
  type: string;
  time?: string | number;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Checks the posted events against the weights and normalises their times; a 400 names the field. */
export function checkEvents(events: PostedEvent[], weights: EventWeights, field: string, now = new Date()): UserEvent[] {
  return events.map((event, j) => {
    if (!(event.type in weights)) {
      const at = `${field}.${j}.type`;
      throw new InputError(`${at}: unknown event type "${event.type}"; this server's types are ${Object.keys(weights).join(', ')} (--event-weights)`, at, undefined, at);
    }
    return { item: event.item, type: event.type, time: eventTime(event.time, `${field}.${j}.time`, now) };
  });
}

function eventTime(value: string | number | undefined, field: string, now: Date): string {
  if (value === undefined) return now.toISOString();
  const ms = typeof value === 'number' ? value * 1000 : ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > Date.parse('9999-12-31T23:59:59Z')) {
    throw new InputError(`${field}: ${JSON.stringify(value)} is not a time: give ISO-8601 ("2026-12-01T08:00:00Z") or epoch seconds`, field, undefined, field);
  }
  return new Date(ms).toISOString();
}

/** The same event twice (a replayed record) is one event. */
export function eventKey(event: UserEvent): string {
  return `${event.item}\u0000${event.type}\u0000${event.time ?? ''}`;
}

/** Weight per product: the largest of its events' weights (a type no longer weighted counts as a purchase would not: it is skipped). */
export function productWeights(events: Iterable<UserEvent>, weights: EventWeights): Map<string, number> {
  const out = new Map<string, number>();
  for (const event of events) {
    const w = weights[event.type];
    if (w === undefined) continue;
    out.set(event.item, Math.max(out.get(event.item) ?? 0, w));
  }
  return out;
}
