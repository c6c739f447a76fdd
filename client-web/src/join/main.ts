/**
 * The join page, /join/<token>: shows the federation's task, lets the person choose their
 * private data (a demo shard, image files or a folder, a CSV file) and a model, then
 * trains in a Web Worker (worker.ts) and shows what happens: backend, per-epoch progress,
 * round or version, local accuracy, bytes up and down, peers. Data never leaves the tab;
 * only predictions on the public set are sent.
 *
 * The page is state.ts (state and reducer, pure), view.ts (drawing), controller.ts
 * (fetches, timers, the worker); this entry only starts it.
 */
import { byId } from '../shared/dom.ts';
import { start } from './controller.ts';

start(byId('app'));
