/**
 * CSV data sets: one sample per line, a label column (the first by default) and numeric
 * features, e.g. the common mnist_train.csv (label, then 784 pixels 0..255). Pure: takes
 * the text or its bytes, so it runs in the browser too; node/csv-file.ts reads files.
 *
 * Choices, all overridable:
 * - header: 'auto' treats the first non-blank line as a header when one of its feature
 *   fields is not a number (so a first row whose features are all numbers is data).
 * - labels: 'auto' reads labels as class indices when every label is a non-negative
 *   integer, else as names. Names become indices in sorted order (JavaScript string order,
 *   by UTF-16 code units, so the result does not depend on the locale: 'Bag' < 'Coat' <
 *   'bag', and '10' < '9'), unless `labelNames` gives the order.
 * - scale: 'auto' divides by 255 when some feature exceeds 1 (pixel data), and refuses
 *   values above 255, which are not pixels; pass a number or 'none' for other data.
 * - blank lines are skipped; line numbers in errors count every physical line from 1.
 * - fields may be double-quoted ("a,b", "" for a quote) but may not span lines.
 */
import { type Dataset, sampleSize } from './dataset.ts';
import { checkInt, DataError } from './errors.ts';

export interface CsvOptions {
  /** File name for error messages. Default 'CSV data'. */
  readonly name?: string;
  /** One character. Default ','. */
  readonly delimiter?: string;
  /** Whether the first non-blank line is a header. Default 'auto' (see the module doc). */
  readonly header?: boolean | 'auto';
  /** Shape of one sample, e.g. [28, 28, 1]; prod(shape) must equal the feature count. Default [features]. */
  readonly shape?: readonly number[];
  /** 'auto' (default), 'none' (values kept), or a multiplier applied to every feature. */
  readonly scale?: 'auto' | 'none' | number;
  /** How to read the label column. Default 'auto' (see the module doc). */
  readonly labels?: 'auto' | 'index' | 'name';
  /**
   * For name labels: the class order (a label not in it is an error). For index labels:
   * names attached to the data set.
   */
  readonly labelNames?: readonly string[];
  /** Index labels must be < numClasses. Default labelNames.length, else max label + 1. */
  readonly numClasses?: number;
  /** Column holding the label, 0-based; negative counts from the end (-1 = last). Default 0. */
  readonly labelColumn?: number;
}

export function parseCsv(input: string | Uint8Array, options: CsvOptions = {}): Dataset {
  const file = options.name ?? 'CSV data';
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DataError('DATA_INVALID_OPTION', `delimiter must be one character other than quote or newline`);
  }
  if (options.numClasses !== undefined) checkInt('numClasses', options.numClasses, 1);
  if (options.labelNames !== undefined && options.numClasses !== undefined) {
    if (options.labelNames.length !== options.numClasses) {
      throw new DataError(
        'DATA_INVALID_OPTION',
        `numClasses ${options.numClasses} differs from the ${options.labelNames.length} labelNames`,
      );
    }
  }
  const text =
    typeof input === 'string' ? input.replace(/^\uFEFF/, '') : new TextDecoder('utf-8').decode(input);

  let width = -1; // fields per row, fixed by the first non-blank line
  let labelCol = 0;
  let features = 0;
  let headerLine = 0;
  let x = new Float32Array(1024);
  let n = 0;
  const labelTokens: string[] = [];
  const lineOf: number[] = [];

  let lineNo = 0;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(pos, end);
    pos = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const quoted = line.includes('"');

    if (width === -1) {
      const fields = splitLine(line, delimiter, file, lineNo);
      width = fields.length;
      labelCol = options.labelColumn ?? 0;
      if (!Number.isInteger(labelCol) || labelCol >= width || labelCol < -width) {
        throw new DataError(
          'DATA_INVALID_OPTION',
          `labelColumn ${labelCol} is outside the ${width} columns`,
          {
            file,
            line: lineNo,
          },
        );
      }
      if (labelCol < 0) labelCol += width;
      features = width - 1;
      if (features === 0) {
        throw new DataError(
          'DATA_CSV_NO_FEATURES',
          'a row needs a label and at least one feature, found 1 field',
          {
            file,
            line: lineNo,
          },
        );
      }
      const isHeader =
        options.header === true ||
        (options.header !== false && fields.some((f, c) => c !== labelCol && !isNumber(f)));
      if (isHeader) {
        headerLine = lineNo;
        continue;
      }
    }
    if (n === 0 && options.shape !== undefined && sampleSize(options.shape) !== features) {
      throw new DataError(
        'DATA_CSV_SHAPE_MISMATCH',
        `shape [${options.shape.join(', ')}] needs ${sampleSize(options.shape)} features, the rows have ${features}`,
        { file, line: lineNo },
      );
    }
    if ((n + 1) * features > x.length) {
      const grown = new Float32Array(Math.max(x.length * 2, (n + 1) * features));
      grown.set(x);
      x = grown;
    }
    // Fields past `width` are only counted, so a long row cannot write into the next sample.
    let k = n * features;
    let count = 0;
    let label = '';
    if (quoted) {
      const fields = splitLine(line, delimiter, file, lineNo);
      count = fields.length;
      for (let c = 0; c < Math.min(count, width); c++) {
        if (c === labelCol) label = fields[c]!.trim();
        else x[k++] = toNumber(fields[c]!, c, file, lineNo);
      }
    } else {
      // The hot path (an MNIST CSV has 47M fields): one pass over the characters, reading
      // [-]digits[.digits] fields with up to 15 digits as m / 10^k (both exact, so correctly
      // rounded, the same as Number()); anything else goes through Number().
      const delim = delimiter.charCodeAt(0);
      const length = line.length;
      let start = 0;
      let mantissa = 0;
      let digits = 0;
      let decimals = -1;
      let negative = false;
      let plain = true;
      for (let i = 0; i <= length; i++) {
        const ch = i < length ? line.charCodeAt(i) : delim;
        if (ch === delim) {
          if (count < width) {
            if (count === labelCol) label = line.slice(start, i).trim();
            else if (plain && digits > 0 && digits <= 15) {
              const v = decimals > 0 ? mantissa / POW10[decimals]! : mantissa;
              x[k++] = negative ? -v : v;
            } else x[k++] = toNumber(line.slice(start, i), count, file, lineNo);
          }
          count++;
          start = i + 1;
          mantissa = 0;
          digits = 0;
          decimals = -1;
          negative = false;
          plain = true;
        } else if (ch >= 48 && ch <= 57) {
          mantissa = mantissa * 10 + (ch - 48);
          digits++;
          if (decimals >= 0) decimals++;
        } else if (ch === 46 && decimals < 0) {
          decimals = 0;
        } else if (ch === 45 && i === start) {
          negative = true;
        } else {
          plain = false;
        }
      }
    }
    if (count !== width) {
      const from = headerLine > 0 ? `the header on line ${headerLine}` : `line ${lineOf[0] ?? lineNo}`;
      throw new DataError('DATA_CSV_RAGGED_ROW', `${count} fields, expected ${width} as in ${from}`, {
        file,
        line: lineNo,
      });
    }
    labelTokens.push(label);
    lineOf.push(lineNo);
    n++;
  }
  if (n === 0) {
    throw new DataError('DATA_CSV_EMPTY', headerLine > 0 ? 'a header but no data rows' : 'no data rows', {
      file,
    });
  }
  x = x.length === n * features ? x : x.slice(0, n * features);

  const scale = options.scale ?? 'auto';
  if (scale === 'auto') {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < x.length; i++) if (x[i]! > max) max = x[i]!;
    if (max > 255) {
      const at = x.findIndex((v) => v > 255);
      throw new DataError(
        'DATA_CSV_SCALE',
        `scale 'auto' expects pixel values in 0..255 but found ${x[at]}; pass scale: 'none' or a number`,
        { file, line: lineOf[Math.floor(at / features)]! },
      );
    }
    if (max > 1) for (let i = 0; i < x.length; i++) x[i] = x[i]! / 255;
  } else if (scale !== 'none') {
    if (!Number.isFinite(scale))
      throw new DataError('DATA_INVALID_OPTION', `scale must be finite, got ${scale}`);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! * scale;
  }

  const { y, numClasses, labelNames } = resolveLabels(labelTokens, lineOf, file, options);
  return {
    x,
    y,
    n,
    shape: options.shape === undefined ? [features] : [...options.shape],
    numClasses,
    ...(labelNames === undefined ? {} : { labelNames }),
  };
}

function resolveLabels(
  tokens: string[],
  lineOf: number[],
  file: string,
  options: CsvOptions,
): { y: Int32Array; numClasses: number; labelNames: readonly string[] | undefined } {
  const y = new Int32Array(tokens.length);
  const mode = options.labels ?? 'auto';
  const asIndex = mode === 'index' || (mode === 'auto' && tokens.every((t) => /^\d+$/.test(t)));
  if (asIndex) {
    const limit = options.numClasses ?? options.labelNames?.length;
    let max = -1;
    tokens.forEach((t, i) => {
      const v = /^\d+$/.test(t) ? Number(t) : Number.NaN;
      if (!Number.isSafeInteger(v)) {
        throw new DataError(
          'DATA_LABEL_NOT_INTEGER',
          `label ${JSON.stringify(t)} is not a non-negative integer`,
          {
            file,
            line: lineOf[i]!,
          },
        );
      }
      if (limit !== undefined && v >= limit) {
        throw new DataError('DATA_LABEL_OUT_OF_RANGE', `label ${v} is outside [0, ${limit})`, {
          file,
          line: lineOf[i]!,
        });
      }
      y[i] = v;
      if (v > max) max = v;
    });
    return { y, numClasses: limit ?? max + 1, labelNames: options.labelNames };
  }
  const names = options.labelNames ?? [...new Set(tokens)].sort();
  if (options.numClasses !== undefined && options.numClasses !== names.length) {
    throw new DataError(
      'DATA_INVALID_OPTION',
      `numClasses ${options.numClasses} differs from the ${names.length} label names`,
    );
  }
  const index = new Map(names.map((name, i) => [name, i]));
  tokens.forEach((t, i) => {
    const c = index.get(t);
    if (c === undefined || t === '') {
      throw new DataError(
        'DATA_CSV_UNKNOWN_LABEL',
        t === '' ? 'empty label' : `label ${JSON.stringify(t)} is not one of labelNames`,
        { file, line: lineOf[i]! },
      );
    }
    y[i] = c;
  });
  return { y, numClasses: names.length, labelNames: names };
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** A feature field as a finite number, or the error saying why not. */
function toNumber(field: string, column: number, file: string, line: number): number {
  const trimmed = field.trim();
  const v = trimmed === '' ? Number.NaN : Number(trimmed);
  if (Number.isFinite(v)) return v;
  if (trimmed === 'NaN' || trimmed === '-NaN') {
    throw new DataError('DATA_CSV_NAN', `column ${column + 1} is NaN`, { file, line });
  }
  if (Number.isNaN(v)) {
    throw new DataError(
      'DATA_CSV_NON_NUMERIC',
      `column ${column + 1} is not a number: ${JSON.stringify(field)}`,
      {
        file,
        line,
      },
    );
  }
  throw new DataError('DATA_CSV_NAN', `column ${column + 1} is not finite: ${JSON.stringify(field)}`, {
    file,
    line,
  });
}

function isNumber(field: string): boolean {
  return field.trim() !== '' && !Number.isNaN(Number(field));
}

/** Fields of one line; quoted fields are unquoted. */
function splitLine(line: string, delimiter: string, file: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) {
          throw new DataError('DATA_CSV_BAD_QUOTE', 'a quoted field is not closed on this line', {
            file,
            line: lineNo,
          });
        }
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== delimiter) {
        throw new DataError(
          'DATA_CSV_BAD_QUOTE',
          `unexpected ${JSON.stringify(line[i])} after a quoted field`,
          {
            file,
            line: lineNo,
          },
        );
      }
      i++;
    } else {
      const d = line.indexOf(delimiter, i);
      const fieldEnd = d === -1 ? line.length : d;
      const value = line.slice(i, fieldEnd);
      if (value.includes('"')) {
        throw new DataError('DATA_CSV_BAD_QUOTE', 'a quote inside an unquoted field', { file, line: lineNo });
      }
      fields.push(value);
      if (d === -1) return fields;
      i = d + 1;
    }
  }
}
