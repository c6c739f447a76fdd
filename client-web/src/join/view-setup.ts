/**
 * The join page's two choice cards: the setup (private data, model, name) and the offer to
 * continue an earlier participation. The setup form is built once per page and then only
 * shown or hidden, so what the person chose (a file, a folder) survives a refused attempt.
 */
import { byId, h } from '../shared/dom.ts';
import type { ArchChoice } from './messages.ts';
import type { SetupForm } from './setup-form.ts';
import type { JoinInfo } from './state.ts';
import type { ParticipantRecord } from './store.ts';

export interface SetupHandlers {
  join(): void;
  continueStored(): void;
  forget(): void;
}

export function setupCardContent(info: JoinInfo, on: SetupHandlers): HTMLElement[] {
  const t = info.federation.task;
  const images = t.inputShape.length === 3;
  const demo = info.demo.available;
  const fixedArch = info.federation.modelArch;
  // Choosing files selects their option.
  const picker = (attrs: Record<string, string | boolean>, radio: string) =>
    h('input', {
      type: 'file',
      ...attrs,
      onchange: () => {
        byId<HTMLInputElement>(radio).checked = true;
      },
    });
  return [
    h('h2', {}, 'Your data'),
    h(
      'label',
      {},
      h('input', {
        type: 'radio',
        name: 'data',
        value: 'demo',
        id: 'data-demo',
        checked: demo,
        disabled: !demo,
      }),
      ` A demo shard from the coordinator (${info.demo.dataset ?? 'not offered for this task'}), `,
      h(
        'select',
        { id: 'demo-size' },
        ...[300, 600, 1200, 2400].map((n) => h('option', { value: n, selected: n === 600 }, `${n} samples`)),
      ),
    ),
    h(
      'label',
      {},
      h('input', {
        type: 'radio',
        name: 'data',
        value: 'images',
        id: 'data-images',
        disabled: !images,
        checked: !demo && images,
      }),
      ` Images (${t.inputShape[1] ?? '?'}×${t.inputShape[0] ?? '?'}${t.inputShape[2] === 1 ? ', grayscale' : ''}): a folder with one sub-folder per class `,
      picker({ id: 'folder-input', webkitdirectory: true, multiple: true }, 'data-images'),
      ' or files named like 3_a.png ',
      picker({ id: 'files-input', multiple: true, accept: 'image/*' }, 'data-images'),
    ),
    h(
      'label',
      {},
      h('input', { type: 'radio', name: 'data', value: 'csv', id: 'data-csv', checked: !demo && !images }),
      ' A CSV file (label, then the features of one sample per line) ',
      picker({ id: 'csv-input', accept: '.csv,text/csv' }, 'data-csv'),
    ),
    h('h2', {}, 'Model'),
    h(
      'label',
      {},
      fixedArch
        ? h('span', {}, `This federation trains ${fixedArch} (FedAvg). `)
        : h(
            'select',
            { id: 'arch' },
            h('option', { value: 'auto' }, 'Pick one for this device'),
            h('option', { value: 'mlp' }, 'mlp (fastest)'),
            h('option', { value: 'cnn-small', disabled: !images }, 'cnn-small'),
            h('option', { value: 'cnn-fedavg', disabled: !images }, 'cnn-fedavg (largest)'),
          ),
    ),
    h(
      'label',
      {},
      'Name shown to the operator (optional) ',
      h('input', { type: 'text', id: 'name', maxlength: 60 }),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { id: 'join-button', onclick: () => on.join() }, 'Join and train'),
    ),
  ];
}

/** The setup form's current values (the card must be built). */
export function readSetupForm(): SetupForm {
  const input = (id: string) => byId<HTMLInputElement>(id);
  return {
    choice: document.querySelector<HTMLInputElement>('input[name="data"]:checked')?.value ?? '',
    demoSamples: Number(byId<HTMLSelectElement>('demo-size').value),
    imageFiles: [
      ...Array.from(input('folder-input').files ?? []),
      ...Array.from(input('files-input').files ?? []),
    ],
    csvFile: input('csv-input').files?.[0] ?? null,
    arch:
      ((document.getElementById('arch') as HTMLSelectElement | null)?.value as ArchChoice | undefined) ??
      'auto',
    name: input('name').value.trim(),
  };
}

export function resumeCardContent(record: ParticipantRecord, on: SetupHandlers): HTMLElement[] {
  return [
    h('h2', {}, 'Welcome back'),
    h(
      'p',
      {},
      'You took part before as participant ',
      h('code', { id: 'resume-participant' }, record.participantId),
      ` (${record.rounds} rounds, ${record.arch}, ${record.dataSource}).`,
    ),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        { id: 'continue-button', onclick: () => on.continueStored() },
        'Continue as this participant',
      ),
      h('button', { class: 'secondary', id: 'forget-button', onclick: () => on.forget() }, 'Forget me'),
    ),
  ];
}
