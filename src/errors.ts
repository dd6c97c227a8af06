// Typed errors of the library API, so callers can tell bad input from a bad model or an unknown id.

/** Base class of every error vasg throws on purpose. */
export class VasgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A data file is malformed: names the file and, where known, the line and field. */
export class InputError extends VasgError {
  constructor(message: string, readonly file: string, readonly line?: number, readonly field?: string) {
    super(message);
  }
}

/** A training or serving option is out of range or of the wrong type. */
export class ConfigError extends VasgError {
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

/** A user or product id the model does not know. */
export class UnknownIdError extends VasgError {
  constructor(message: string, readonly kind: 'user' | 'item', readonly id: string) {
    super(message);
  }
}

/** A model directory that is missing, unreadable or of another format/version. */
export class ModelFormatError extends VasgError {
  constructor(message: string, readonly dir: string) {
    super(message);
  }
}

/** The model cannot do what was asked (MostPop has no similar items, BPR-MF no cold products, …): names the method and the operation. */
export class UnsupportedError extends VasgError {
  constructor(message: string, readonly method: string, readonly operation: string) {
    super(message);
  }
}
