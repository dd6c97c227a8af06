import test from 'node:test';
import assert from 'node:assert/strict';
import { parsePyLiteral, PyLiteralError } from '../src/data/formats/pyliteral.js';

test('parses an Amazon 2014 metadata line with nested lists, u-prefixes and mixed quotes', () => {
  const line =
    "{'asin': '0000031852', 'title': u\"Girls' Ballet \\\"Tutu\\\" Neon\", 'price': 3.17, " +
    "'related': {'also_bought': ['B00JHONN1S', 'B002BZX8Z6']}, 'salesRank': {'Toys & Games': 211836}, " +
    "'imUrl': 'http://ecx.images-amazon.com/images/I/51fAmVkTbyL._SY300_.jpg', " +
    "'categories': [['Clothing, Shoes & Jewelry', 'Girls'], ['Sports & Outdoors', 'Other Sports', 'Dance']], " +
    "'gift': True, 'discontinued': False, 'brand': None, 'n': -2e3, 't': (1, 2,)}";
  assert.deepEqual(parsePyLiteral(line), {
    asin: '0000031852',
    title: 'Girls\' Ballet "Tutu" Neon',
    price: 3.17,
    related: { also_bought: ['B00JHONN1S', 'B002BZX8Z6'] },
    salesRank: { 'Toys & Games': 211836 },
    imUrl: 'http://ecx.images-amazon.com/images/I/51fAmVkTbyL._SY300_.jpg',
    categories: [['Clothing, Shoes & Jewelry', 'Girls'], ['Sports & Outdoors', 'Other Sports', 'Dance']],
    gift: true,
    discontinued: false,
    brand: null,
    n: -2000,
    t: [1, 2],
  });
});

test('decodes escapes and unicode', () => {
  assert.equal(parsePyLiteral("u'caf\\xe9 \\u2603 \\U0001F600 it\\'s\\n'"), "café ☃ 😀 it's\n");
  assert.equal(parsePyLiteral("'naïve 日本'"), 'naïve 日本');
  assert.equal(parsePyLiteral("r'a\\nb'"), 'a\\nb');
  assert.throws(() => parsePyLiteral("u'\\xg0'"), /bad \\x escape at column 5/);
  assert.throws(() => parsePyLiteral("u'\\u26'"), /bad \\u escape/);
  assert.throws(() => parsePyLiteral("u'\\U0001F6'"), /bad \\U escape/);
});

test('Python 2 byte strings (no u prefix) holding UTF-8 are decoded; u-strings and invalid UTF-8 are kept', () => {
  assert.deepEqual(parsePyLiteral("{'title': 'Caf\\xc3\\xa9 \\xe2\\x98\\x83', 'u': u'caf\\xc3\\xa9', 'bad': 'caf\\xe9'}"), {
    title: 'Café ☃',
    u: 'cafÃ©',
    bad: 'café',
  });
});

test('never evaluates code and reports where a literal is malformed', () => {
  for (const bad of ["__import__('os')", "{'a': 1", "{'a' 1}", "'open", "{'a': 1} x", "[1 2]", "{'a': [1, {'b': }]}"]) {
    assert.throws(() => parsePyLiteral(bad), PyLiteralError, bad);
  }
  assert.throws(() => parsePyLiteral("{'a': 1 'b': 2}"), /expected ',' or '}' at column 9/);
});

test("a '__proto__' key is a plain key: it cannot give the dict inherited fields", () => {
  const v = parsePyLiteral("{'__proto__': {'asin': 'B1'}, 'title': 'x'}") as Record<string, unknown>;
  assert.equal(v.asin, undefined);
  assert.deepEqual(Object.keys(v), ['__proto__', 'title']);
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});
