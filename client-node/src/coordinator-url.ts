/**
 * The coordinator address as people write it (the dashboard's http URL, or the WebSocket
 * endpoint) turned into the WebSocket endpoint the session connects to.
 */
import { CliError } from './cli-error.ts';

const WS_PATH = 'v1/ws';

/**
 * ws(s)://… is used as given; http(s)://host[:port][/prefix] becomes ws(s)://host[:port][/prefix]/v1/ws
 * (a prefix is kept for coordinators behind a reverse proxy).
 */
export function coordinatorWsUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CliError(
      'USAGE',
      `--coordinator must be a URL such as ws://host:8080/v1/ws or http://host:8080, got "${given}"`,
    );
  }
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return url.toString();
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(
      'USAGE',
      `--coordinator must start with ws://, wss://, http:// or https://, got "${given}"`,
    );
  }
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (!url.pathname.endsWith(`/${WS_PATH}`)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/${WS_PATH}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}
