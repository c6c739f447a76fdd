/**
 * The setup form's values as plain data (view-setup.ts reads them from the DOM) and what
 * they mean: which private data to train on, or what the person still has to choose.
 */
import type { ArchChoice, DataChoice } from './messages.ts';

export interface SetupForm {
  /** The checked data option: 'demo' | 'images' | 'csv', or '' when none is. */
  choice: string;
  demoSamples: number;
  /** Files from the folder picker and the file picker together. */
  imageFiles: File[];
  csvFile: File | null;
  arch: ArchChoice;
  name: string;
}

/** The data to train on, or a sentence saying what is missing. */
export function dataChoice(form: SetupForm): DataChoice | string {
  switch (form.choice) {
    case 'demo':
      return { kind: 'demo', samples: form.demoSamples };
    case 'images':
      return form.imageFiles.length > 0
        ? { kind: 'images', files: form.imageFiles }
        : 'Choose a folder or image files first.';
    case 'csv':
      return form.csvFile ? { kind: 'csv', file: form.csvFile } : 'Choose a CSV file first.';
    default:
      return 'Choose where your data comes from.';
  }
}
