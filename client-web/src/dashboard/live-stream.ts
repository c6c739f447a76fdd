/**
 * The coordinator's event stream (GET /v1/events) read with fetch(): an EventSource cannot
 * send the admin token. Calls `on.message` per event, `on.end` once when the stream ends
 * (closed, refused, unreachable) with the HTTP status if it was refused (0 otherwise).
 * The controller reconnects and keeps a slow poll meanwhile.
 */
import { adminToken } from './api.ts';
import { type SseMessage, SseParser } from './sse.ts';

export interface StreamHandlers {
  message(m: SseMessage): void;
  end(status: number): void;
}

export class LiveStream {
  private readonly abort = new AbortController();
  private ended = false;

  constructor(private readonly on: StreamHandlers) {
    void this.read();
  }

  close(): void {
    this.abort.abort();
  }

  private finish(status: number): void {
    if (this.ended) return;
    this.ended = true;
    this.on.end(status);
  }

  private async read(): Promise<void> {
    try {
      const res = await fetch('/v1/events', {
        headers: { authorization: `Bearer ${adminToken.get()}`, accept: 'text/event-stream' },
        signal: this.abort.signal,
      });
      if (!res.ok || !res.body) {
        this.finish(res.status);
        return;
      }
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const m of parser.push(value)) this.on.message(m);
      }
    } catch {
      // Aborted, or the connection dropped: either way the stream has ended.
    }
    this.finish(0);
  }
}
