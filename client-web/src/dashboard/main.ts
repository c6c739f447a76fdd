/**
 * The coordinator dashboard, at `/`: asks for the admin token (kept in sessionStorage),
 * then lists the federations with their settings, and for the selected one shows who is
 * online (kind, architecture, last seen, traffic), a live timeline of rounds or consensus
 * versions, and charts of the participants' reported accuracy and of the bytes
 * transferred. It can create join links, pause and resume, and create a federation.
 *
 * The page is state.ts (state and reducer, pure), view.ts and view-federation.ts
 * (drawing), controller.ts (REST calls, polling); this entry only starts it.
 */
import { byId } from '../shared/dom.ts';
import { start } from './controller.ts';

start(byId('app'));
