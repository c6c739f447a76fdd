/**
 * The selected federation's global student (`mutua federation distill`): how it was made,
 * its size and accuracy, and its download (model.json + weights.bin, no token needed, so
 * the links work as they are and `tf.loadLayersModel(<model.json URL>)` loads it).
 */
import { formatAgo, formatBytes, formatPercent, h } from '../shared/dom.ts';
import type { Student } from './api.ts';

export function studentSection(): HTMLElement {
  return h('div', { id: 'student', class: 'muted', style: 'margin: 0.5rem 0' });
}

export function renderStudent(box: HTMLElement, student: Student | null, federationId: string): void {
  if (!student) {
    box.replaceChildren(
      h('strong', {}, 'Global student: '),
      'none yet (',
      h('code', {}, `mutua federation distill ${federationId} --out DIR`),
      ' trains one from the consensus and publishes it here).',
    );
    return;
  }
  const { info } = student;
  const test =
    typeof info.testAccuracy === 'number'
      ? `, ${formatPercent(info.testAccuracy)} on ${info.testSet ?? 'a test set'}`
      : '';
  box.replaceChildren(
    h('strong', {}, 'Global student: '),
    `${info.arch}, ${info.params.toLocaleString('en')} parameters, ${formatBytes(student.weightBytes)} (${info.encoding}); `,
    `${formatPercent(info.targetAgreement)} agreement with the consensus on ${info.rows} public rows${test}; `,
    `published ${formatAgo(student.uploadedAt)}. `,
    h('a', { id: 'student-model', href: student.modelUrl, download: 'model.json' }, 'model.json'),
    ' + ',
    h('a', { id: 'student-weights', href: student.weightsUrl, download: 'weights.bin' }, 'weights.bin'),
  );
}
