/**
 * Every failure to read or split data is a DataError with a stable `code`, so callers (the
 * CLI, the dashboard) can react to the kind of problem and people can search for it. The
 * message names the file and, for text formats, the 1-based line.
 */
export type DataErrorCode =
  // IDX
  | 'DATA_IDX_BAD_MAGIC'
  | 'DATA_IDX_BAD_DTYPE'
  | 'DATA_IDX_BAD_RANK'
  | 'DATA_IDX_TRUNCATED'
  | 'DATA_IDX_TRAILING_BYTES'
  // labels, whatever the format
  | 'DATA_LABEL_COUNT_MISMATCH'
  | 'DATA_LABEL_OUT_OF_RANGE'
  | 'DATA_LABEL_NOT_INTEGER'
  // CSV
  | 'DATA_CSV_EMPTY'
  | 'DATA_CSV_RAGGED_ROW'
  | 'DATA_CSV_NON_NUMERIC'
  | 'DATA_CSV_NAN'
  | 'DATA_CSV_NO_FEATURES'
  | 'DATA_CSV_SHAPE_MISMATCH'
  | 'DATA_CSV_UNKNOWN_LABEL'
  | 'DATA_CSV_BAD_QUOTE'
  | 'DATA_CSV_SCALE'
  // JSON (the fashion-mnist package)
  | 'DATA_JSON_BAD_ROW'
  | 'DATA_JSON_SYNTAX'
  | 'DATA_PACKAGE_LAYOUT'
  // files and folders (node loaders)
  | 'DATA_FILE_NOT_FOUND'
  | 'DATA_FILE_UNREADABLE'
  | 'DATA_GZIP_CORRUPT'
  | 'DATA_IMAGE_FOLDER_EMPTY'
  | 'DATA_IMAGE_CLASS_EMPTY'
  | 'DATA_IMAGE_UNREADABLE'
  | 'DATA_IMAGE_WRONG_SIZE'
  // splitting
  | 'DATA_PARTITION_MIN_UNREACHABLE'
  // arguments
  | 'DATA_INVALID_OPTION';

export interface DataErrorDetails {
  /** The file (or folder, or caller-given name) the problem is in. */
  readonly file?: string;
  /** 1-based line number for text formats. */
  readonly line?: number;
  readonly cause?: unknown;
}

export class DataError extends Error {
  override readonly name = 'DataError';
  readonly code: DataErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(code: DataErrorCode, message: string, details: DataErrorDetails = {}) {
    const where =
      details.file === undefined
        ? details.line === undefined
          ? ''
          : `line ${details.line}: `
        : details.line === undefined
          ? `${details.file}: `
          : `${details.file}:${details.line}: `;
    super(`${code}: ${where}${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.line = details.line;
  }
}

/** Throws DATA_INVALID_OPTION unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new DataError('DATA_INVALID_OPTION', `${name} must be an integer ${range}, got ${value}`);
  }
}
