import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeXml, lineChart, logTicks, niceTicks } from './svg-chart.ts';

/** Tags open and close in order (a cheap well-formedness check; no XML parser is installed). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes <${stack.at(-1)}>`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, []);
}

describe('svg chart', () => {
  it('niceTicks picks round steps covering the range', () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0, 23, 5), [0, 5, 10, 15, 20]);
    assert.deepEqual(niceTicks(3, 3), [3]);
  });

  it('logTicks are the powers of ten around the range', () => {
    assert.deepEqual(logTicks(0.03, 250), [0.01, 0.1, 1, 10, 100, 1000]);
  });

  it('escapes text', () => {
    assert.equal(escapeXml('a<b & "c"'), 'a&#60;b &#38; &#34;c&#34;');
  });

  it('draws a polyline per series, a band, reference lines and a legend entry each', () => {
    const svg = lineChart(
      [
        {
          name: 'one <1>',
          color: '#f00',
          points: [
            [1, 0.5],
            [2, 0.7],
            [3, 0.8],
          ],
          band: [
            [1, 0.4, 0.6],
            [2, 0.6, 0.8],
            [3, 0.7, 0.9],
          ],
        },
        {
          name: 'two',
          color: '#00f',
          points: [
            [1, 0.3],
            [3, 0.6],
          ],
          dashed: true,
        },
      ],
      { title: 'T', xLabel: 'x', yLabel: 'y', references: [{ name: 'ref', color: '#888', y: 0.55 }] },
    );
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assertBalanced(svg);
    assert.equal(svg.match(/<polyline /g)?.length, 2);
    assert.equal(svg.match(/<polygon /g)?.length, 1);
    assert.match(svg, /one &#60;1&#62;/);
    assert.match(svg, />ref</);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('log x drops points at x <= 0 and labels decades', () => {
    const svg = lineChart(
      [
        {
          name: 's',
          color: '#000',
          points: [
            [0, 0.1],
            [0.5, 0.5],
            [20, 0.9],
          ],
        },
      ],
      {
        title: 'T',
        xLabel: 'MB',
        yLabel: 'acc',
        logX: true,
      },
    );
    assertBalanced(svg);
    const line = /<polyline points="([^"]+)"/.exec(svg)![1]!;
    assert.equal(line.split(' ').length, 2);
    for (const label of ['>0.1<', '>1<', '>10<', '>100<']) assert.ok(svg.includes(label), label);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('writes point labels, escaped, and drops those a log axis cannot place', () => {
    const svg = lineChart(
      [
        {
          name: 's',
          color: '#123456',
          points: [
            [1, 0.5],
            [10, 0.6],
          ],
          labels: [
            [1, 0.5, '50% <a>'],
            [10, 0.6, '80%'],
            [0, 0.6, 'never'],
          ],
        },
      ],
      { title: 'T', xLabel: 'x', yLabel: 'y', logX: true },
    );
    assertBalanced(svg);
    const labels = [...svg.matchAll(/<text [^>]*fill="#123456">([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.deepEqual(labels, ['50% &#60;a&#62;', '80%']);
  });

  it('an empty chart is still a valid image', () => {
    const svg = lineChart([], { title: 'nothing', xLabel: 'x', yLabel: 'y', logX: true });
    assertBalanced(svg);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });
});
