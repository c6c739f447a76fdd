/**
 * Reads server-sent events (text/event-stream) from chunks of text: the coordinator's
 * GET /v1/events, which the dashboard reads with fetch() because an EventSource cannot send
 * the admin token. Only what that stream uses: `event:` and `data:` fields (data lines
 * joined by newlines), comments skipped, messages split on a blank line (LF or CRLF).
 */
export interface SseMessage {
  event: string;
  data: string;
}

export class SseParser {
  private buffer = '';

  /** The messages completed by this chunk (a message split across chunks comes out whole). */
  push(chunk: string): SseMessage[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: SseMessage[] = [];
    let at = this.buffer.indexOf('\n\n');
    while (at >= 0) {
      const block = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      at = this.buffer.indexOf('\n\n');
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'event') event = value;
        else if (name === 'data') data.push(value);
      }
      if (data.length > 0) out.push({ event, data: data.join('\n') });
    }
    return out;
  }
}

/** Events that change the federations list rather than one federation's details. */
const LIST_EVENTS = new Set([
  'federation-created',
  'federation-deleted',
  'federation-paused',
  'federation-resumed',
]);

/**
 * Whether an event calls for fetching again now: changes to the list always, others when
 * they are about the selected federation ('ready' and unknown payloads never).
 */
export function eventConcerns(m: SseMessage, selectedId: string): boolean {
  if (m.event === 'ready') return false;
  if (LIST_EVENTS.has(m.event)) return true;
  try {
    const e = JSON.parse(m.data) as { federationId?: unknown };
    return e.federationId === selectedId && selectedId !== '';
  } catch {
    return false;
  }
}
