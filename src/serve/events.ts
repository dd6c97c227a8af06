// Typed user events (purchase, cart, click, view, …) and their weights: what `POST /users/{id}/events`
// takes, what the write log records, and how a folded-in user is made from them (the weighted mean of the
// products' vectors). A product counts once per user, with the largest weight of its events: a view followed
// by a purchase is a purchase, and replaying an event already applied changes nothing (the log's rule).
import { ConfigError, InputError } from '../errors.js';
import { DEFAULT_EVENT_TYPE, DEFAULT_EVENT_WEIGHTS, parseEventWeights, validEventWeights, type EventWeights } from '../data/events.js';

/** One event as the write log and serve_state.json record it. `time`: ISO-8601 UTC, or null when unknown (the old `{"items"}` body). */
export interface UserEvent {
  item: string;
  type: string;
  time: string | null;
}

/** Default of `vasg serve --event-weights` when the model's config names none (the training default). */
export { DEFAULT_EVENT_WEIGHTS, type EventWeights };

/** The event type of the `{"items": [...]}` body and of trained purchases. */
export const PURCHASE = DEFAULT_EVENT_TYPE;

/**
 * The types a server takes, from weights in training's form (`--event-weights`, src/data/events.ts): those of
 * positive weight. Training leaves a type of weight 0 out; serving cannot fold a user in from such events only (a
 * zero vector), so a post of that type is refused as unknown. `purchase` must weigh > 0, since the `{"items"}` body
 * and training purchases are purchases.
 */
export function servedEventWeights(weights: EventWeights, source = '--event-weights'): EventWeights {
  const kept = Object.fromEntries(Object.entries(weights).filter(([, w]) => w > 0));
  if (!(kept[PURCHASE] > 0)) throw new ConfigError(`${source}: must give "${PURCHASE}" a weight > 0 (the {"items"} body and trained purchases are purchases)`, source);
  return kept;
}

/** `vasg serve --event-weights purchase=1,cart=0.5,…`: training's parser, then the served types. */
export function parseServedEventWeights(text: string): EventWeights {
  return servedEventWeights(parseEventWeights(text));
}

/**
 * The weights a server uses: the flag's, else the model's config (`eventWeights`, written by training), else the
 * defaults.
 */
export function resolveEventWeights(flag: EventWeights | undefined, modelConfig: unknown): EventWeights {
  if (flag) return flag;
  const source = 'the model\'s config "eventWeights"';
  const fromModel = (modelConfig as { eventWeights?: unknown } | null)?.eventWeights;
  if (typeof fromModel === 'string') return servedEventWeights(parseEventWeights(fromModel), source);
  if (validEventWeights(fromModel)) return servedEventWeights(fromModel as EventWeights, source);
  if (fromModel !== undefined) throw new ConfigError(`${source}: expected type=weight entries such as purchase=1,view=0.05, found ${JSON.stringify(fromModel)}`, source);
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
