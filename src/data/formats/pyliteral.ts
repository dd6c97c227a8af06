// A safe parser for the Python literals in the Amazon 2014 metadata dumps (one `repr(dict)` a line).
// It never evaluates code: only dicts, lists, tuples, strings, numbers, True/False/None are accepted.

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** A malformed literal; `column` is 1-based within the parsed text. */
export class PyLiteralError extends Error {
  constructor(message: string, readonly column: number) {
    super(`${message} at column ${column}`);
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '0': '\0',
};

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string): never {
    throw new PyLiteralError(message, this.pos + 1);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  value(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end of literal');
    if (c === '{') return this.dict();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.sequence('(', ')');
    if (c === "'" || c === '"') return bytesAsUtf8(this.string(false));
    if (/[uUrRbB]/.test(c) && /['"]/.test(this.text[this.pos + 1] ?? '')) {
      this.pos++;
      const s = this.string(c === 'r' || c === 'R');
      return c === 'u' || c === 'U' ? s : bytesAsUtf8(s);
    }
    if (/[-+0-9.]/.test(c)) return this.number();
    for (const [word, v] of [['True', true], ['False', false], ['None', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    this.fail(`unexpected '${c}'`);
  }

  /** Comma-separated items up to `close`, allowing a trailing comma as Python does. */
  items(close: string, item: () => void): void {
    this.pos++;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return;
      }
      item();
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  sequence(_open: string, close: string): PyValue[] {
    const out: PyValue[] = [];
    this.items(close, () => out.push(this.value()));
    return out;
  }

  dict(): { [key: string]: PyValue } {
    const out: { [key: string]: PyValue } = {};
    this.items('}', () => {
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('dict key must be a string or number');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      // An own property even for the key '__proto__', which plain assignment would take as the prototype.
      Object.defineProperty(out, String(key), { value: this.value(), enumerable: true, writable: true, configurable: true });
    });
    return out;
  }

  string(raw: boolean): string {
    const quote = this.text[this.pos++];
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) this.fail('unterminated string');
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++];
      if (e === undefined) this.fail('unterminated string');
      if (raw) out += '\\' + e;
      else if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
      else if (e === 'x') out += this.hexEscape(2);
      else if (e === 'u') out += this.hexEscape(4);
      else if (e === 'U') out += this.hexEscape(8);
      else if (e === '\n') continue; // line continuation
      else out += '\\' + e; // Python keeps unknown escapes verbatim
    }
  }

  hexEscape(digits: number): string {
    const hex = this.text.slice(this.pos, this.pos + digits);
    if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail(`bad \\${{ 2: 'x', 4: 'u', 8: 'U' }[digits]} escape`);
    this.pos += digits;
    const code = parseInt(hex, 16);
    if (code > 0x10ffff) this.fail('code point out of range');
    return String.fromCodePoint(code);
  }

  number(): number {
    const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[lLjJ]?/.exec(this.text.slice(this.pos));
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    return Number(m[0].replace(/[lLjJ]$/, ''));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A Python 2 byte string (no u prefix) repr's its non-ASCII bytes as \xNN: '\xc3\xa9' is the UTF-8
 * of 'é'. Such strings are decoded as UTF-8 when they are valid UTF-8, else kept byte for character.
 */
function bytesAsUtf8(s: string): string {
  if (!/[\x80-\xff]/.test(s) || /[^\x00-\xff]/.test(s)) return s;
  try {
    return utf8.decode(Buffer.from(s, 'latin1'));
  } catch {
    return s;
  }
}

/** Parses one Python literal; trailing text other than whitespace is an error. */
export function parsePyLiteral(text: string): PyValue {
  const p = new Parser(text);
  const v = p.value();
  p.skipSpace();
  if (p.pos < text.length) p.fail('unexpected text after literal');
  return v;
}
