import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from './csv.ts';

function rejects(text: string, code: string, line: number | undefined, options = {}): void {
  assert.throws(
    () => parseCsv(text, { name: 'data.csv', ...options }),
    (err: Error & { code?: string; line?: number; file?: string }) => {
      assert.equal(err.code, code, err.message);
      assert.equal(err.line, line, err.message);
      assert.equal(err.file, 'data.csv');
      if (line !== undefined) assert.ok(err.message.includes(`data.csv:${line}:`), err.message);
      return true;
    },
  );
}

describe('parseCsv', () => {
  it('reads label-first rows with a header, scales 0..255 pixels and applies the shape', () => {
    const ds = parseCsv('label,p1,p2,p3,p4\n3,0,255,51,102\n1,255,0,0,0\n', { shape: [2, 2, 1] });
    assert.equal(ds.n, 2);
    assert.deepEqual(ds.shape, [2, 2, 1]);
    assert.deepEqual([...ds.y], [3, 1]);
    assert.equal(ds.numClasses, 4);
    assert.deepEqual([...ds.x], [0, 1, 0.2, 0.4, 1, 0, 0, 0].map(Math.fround));
  });

  it('detects the absence of a header and leaves values <= 1 unscaled', () => {
    const ds = parseCsv('0,0.5,0.25\n1,1,0\n');
    assert.equal(ds.n, 2);
    assert.deepEqual(ds.shape, [2]);
    assert.deepEqual([...ds.x], [0.5, 0.25, 1, 0]);
  });

  it('takes explicit header and scale settings', () => {
    assert.throws(() => parseCsv('a,b\n0,1\n', { header: false }), { code: 'DATA_CSV_NON_NUMERIC' });
    assert.equal(parseCsv('0,1\n1,2\n', { header: true }).n, 1);
    assert.deepEqual([...parseCsv('0,300,-2\n', { scale: 'none' }).x], [300, -2]);
    assert.deepEqual([...parseCsv('0,300,-2\n', { scale: 0.5 }).x], [150, -1]);
  });

  it("refuses to guess pixel scaling for values above 255 under scale 'auto'", () => {
    rejects('0,1,2\n1,256,0\n', 'DATA_CSV_SCALE', 2);
  });

  it('maps string labels to indices in sorted order, or in the labelNames order', () => {
    const ds = parseCsv('species,x\ncat,1\nant,0\nbee,1\ncat,0\n');
    assert.deepEqual(ds.labelNames, ['ant', 'bee', 'cat']);
    assert.deepEqual([...ds.y], [2, 0, 1, 2]);
    assert.equal(ds.numClasses, 3);
    const ordered = parseCsv('cat,1\nant,0\n', { labelNames: ['cat', 'dog', 'ant'] });
    assert.deepEqual([...ordered.y], [0, 2]);
    assert.equal(ordered.numClasses, 3);
    rejects('cat,1\n\nemu,0\n', 'DATA_CSV_UNKNOWN_LABEL', 3, { labelNames: ['cat'] });
    rejects('cat,1\n,0\n', 'DATA_CSV_UNKNOWN_LABEL', 2);
  });

  it('attaches labelNames to index labels and checks the range', () => {
    const ds = parseCsv('1,0\n0,1\n', { labelNames: ['no', 'yes'] });
    assert.deepEqual(ds.labelNames, ['no', 'yes']);
    assert.deepEqual([...ds.y], [1, 0]);
    rejects('1,0\n5,1\n', 'DATA_LABEL_OUT_OF_RANGE', 2, { numClasses: 3 });
    rejects('1,0\n1.5,1\n', 'DATA_LABEL_NOT_INTEGER', 2, { labels: 'index' });
    assert.throws(() => parseCsv('1,0\n', { labelNames: ['a', 'b'], numClasses: 3 }), {
      code: 'DATA_INVALID_OPTION',
    });
  });

  it('reads the label from another column', () => {
    const ds = parseCsv('0.1,0.2,7\n0.3,0.4,2\n', { labelColumn: -1 });
    assert.deepEqual([...ds.y], [7, 2]);
    assert.deepEqual([...ds.x], [0.1, 0.2, 0.3, 0.4].map(Math.fround));
  });

  it('handles quotes, CRLF, a BOM, blank lines, other delimiters and bytes', () => {
    const ds = parseCsv('\uFEFF"name";"v"\r\n\r\n"T-shirt/top";"0.5"\r\n"a ""b""";1\r\n', { delimiter: ';' });
    assert.deepEqual(ds.labelNames, ['T-shirt/top', 'a "b"']);
    assert.deepEqual([...ds.x], [0.5, 1]);
    const bytes = new TextEncoder().encode('\uFEFFlabel,x\n1,0.5\n');
    assert.deepEqual([...parseCsv(bytes).x], [0.5]);
  });

  it('reports each malformed input with its line number', () => {
    rejects('', 'DATA_CSV_EMPTY', undefined);
    rejects('\n  \n', 'DATA_CSV_EMPTY', undefined);
    rejects('label,x\n', 'DATA_CSV_EMPTY', undefined);
    rejects('1,2,3\n1,2\n', 'DATA_CSV_RAGGED_ROW', 2);
    rejects('label,a,b\n\n1,2,3\n1,2,3,4\n', 'DATA_CSV_RAGGED_ROW', 4);
    rejects('1,2,3\n1,2,x\n', 'DATA_CSV_NON_NUMERIC', 2);
    rejects('1,2,3\n1,,3\n', 'DATA_CSV_NON_NUMERIC', 2);
    rejects('1,2,3\n1,2,NaN\n', 'DATA_CSV_NAN', 2);
    rejects('1,2,3\n1,2,Infinity\n', 'DATA_CSV_NAN', 2, { scale: 'none' });
    rejects('1\n2\n', 'DATA_CSV_NO_FEATURES', 1);
    rejects('label,a,b,c\n1,2,3,4\n', 'DATA_CSV_SHAPE_MISMATCH', 2, { shape: [2, 2, 1] });
    rejects('1,"2,3\n', 'DATA_CSV_BAD_QUOTE', 1);
    rejects('1,"2"x\n', 'DATA_CSV_BAD_QUOTE', 1);
  });

  it('reads every number form exactly as Number() does', () => {
    const fields = ['-0.5', '0.1', '.5', '5.', ' 3 ', '1e-2', '-7', '0.1234567890123456789', '+2', '0x10'];
    const ds = parseCsv(`0,${fields.join(',')}\n`, { scale: 'none' });
    assert.deepEqual(
      [...ds.x],
      fields.map((f) => Math.fround(Number(f))),
    );
    const quoted = parseCsv(`"0",${fields.map((f) => `"${f}"`).join(',')}\n`, { scale: 'none' });
    assert.deepEqual([...quoted.x], [...ds.x]);
  });

  it('says which column is not a number', () => {
    assert.throws(() => parseCsv('1,2,3\n1,2,abc\n'), {
      message: /CSV data:2: column 3 is not a number: "abc"/,
    });
  });
});
