// CSV input/output for the data layer: header-checked reading with line numbers (csv-parse), and
// RFC 4180 quoting for writing. Error messages name file, line, field, what was expected and found.
import fs from 'node:fs';
import { parse, type Options } from 'csv-parse/sync';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export interface CsvRow {
  fields: string[];
  /** 1-based line number in the file (the header is line 1). */
  line: number;
}

export interface CsvTable {
  file: string;
  /** Column name → field index. */
  columns: Map<string, number>;
  header: string[];
  rows: CsvRow[];
}

export interface CsvSpec {
  required: string[];
  optional?: string[];
}

/** An error located at `file:line`, optionally naming the field. */
export function csvError(file: string, line: number, message: string, field?: string): InputError {
  return new InputError(`${file}:${line}: ${field === undefined ? '' : `field "${field}": `}${message}`, file, line, field);
}

/**
 * Reads a CSV file whose first line is a header with the `required` columns and any of the
 * `optional` ones, in any order. Every row must have as many fields as the header.
 */
export function readCsv(file: string, spec: CsvSpec): CsvTable {
  const text = fs.readFileSync(file);
  let records: CsvRow[];
  try {
    const toRow = (fields: string[], context: { lines: number }): CsvRow => ({ fields, line: context.lines });
    const options: Options = {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true, // checked below, with a clearer message
      on_record: toRow as unknown as Options['on_record'],
    };
    records = parse(text, options) as unknown as CsvRow[];
  } catch (error) {
    const quote = badQuote(text);
    if (quote) throw csvError(file, quote.line, quote.problem);
    throw new Error(`${file}: malformed CSV: ${(error as Error).message}`);
  }
  if (records.length === 0) throw new Error(`${file}: empty file; expected a header line ${spec.required.join(',')}`);
  const header = records[0].fields.map((name) => name.trim());
  const allowed = new Set([...spec.required, ...(spec.optional ?? [])]);
  const expectedHeader = [...spec.required, ...(spec.optional ?? []).map((name) => `[${name}]`)].join(',');
  const columns = new Map<string, number>();
  header.forEach((name, index) => {
    if (!allowed.has(name)) throw csvError(file, records[0].line, `unknown column "${name}"; expected header ${expectedHeader}`);
    if (columns.has(name)) throw csvError(file, records[0].line, `column "${name}" appears twice`);
    columns.set(name, index);
  });
  for (const name of spec.required) {
    if (!columns.has(name)) throw csvError(file, records[0].line, `missing column "${name}"; expected header ${expectedHeader}, found ${header.join(',')}`);
  }
  const rows = records.slice(1);
  for (const row of rows) {
    if (row.fields.length !== header.length) {
      throw csvError(file, row.line, `expected ${header.length} fields (${header.join(',')}), found ${row.fields.length}`);
    }
  }
  return { file, columns, header, rows };
}

/**
 * Where a quoted field went wrong, for the error message: csv-parse reports an unclosed quote at the last
 * line of the file (the quote swallowed everything after it) and a stray one where it finally closed, but
 * the line to fix is where the quote opened. RFC 4180: a quote opens only at the start of a field; inside,
 * "" is a quote character.
 */
function badQuote(text: Buffer): { line: number; problem: string } | undefined {
  const QUOTE = 0x22, COMMA = 0x2c, LF = 0x0a, CR = 0x0d;
  let line = 1;
  let opened = 0; // line of the open quote; 0 outside quotes
  let fieldStart = true;
  for (let k = text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf ? 3 : 0; k < text.length; k++) {
    const c = text[k];
    if (opened > 0) {
      if (c === LF) line++;
      else if (c === QUOTE && text[k + 1] === QUOTE) k++;
      else if (c === QUOTE) {
        const next = text[k + 1];
        if (next !== undefined && next !== COMMA && next !== LF && next !== CR) {
          return { line: opened, problem: `the quoted field that opens on this line closes${line > opened ? ` on line ${line}` : ''} and is followed by ${JSON.stringify(String.fromCharCode(next))}; a quote inside a quoted field is written ""` };
        }
        opened = 0;
      }
    } else if (c === QUOTE && fieldStart) {
      opened = line;
    } else {
      if (c === LF) line++;
      fieldStart = c === COMMA || c === LF || c === CR;
    }
  }
  return opened > 0 ? { line: opened, problem: 'a quoted field opens on this line and is never closed (a quote inside a quoted field is written "")' } : undefined;
}

/** The field of `row` in column `name`, or undefined when the file has no such column. */
export function field(table: CsvTable, row: CsvRow, name: string): string | undefined {
  const index = table.columns.get(name);
  return index === undefined ? undefined : row.fields[index];
}

/** A required, non-empty identifier field (surrounding spaces removed). */
export function idField(table: CsvTable, row: CsvRow, name: string): string {
  const value = (field(table, row, name) ?? '').trim();
  if (value.length === 0) throw csvError(table.file, row.line, 'expected a non-empty id, found an empty field', name);
  return value;
}

/** A finite number field. */
export function numberField(table: CsvTable, row: CsvRow, name: string): number {
  const raw = (field(table, row, name) ?? '').trim();
  const value = raw.length === 0 ? NaN : Number(raw);
  if (!Number.isFinite(value)) throw csvError(table.file, row.line, `expected a number, found ${JSON.stringify(raw)}`, name);
  return value;
}

/** Quotes a field when it contains a separator, quote or line break. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line, newline-terminated. */
export function csvLine(fields: Array<string | number>): string {
  return fields.map(csvField).join(',') + '\n';
}

/** Writes `rows` of `table` (e.g. the ones kept) under its header, atomically. */
export function writeCsvRows(file: string, table: CsvTable, rows: CsvRow[]): void {
  writeFileAtomic(file, [csvLine(table.header), ...rows.map((row) => csvLine(row.fields))].join(''));
}
