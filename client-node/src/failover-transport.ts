/**
 * `--coordinator URL1,URL2,…`: several entry points to one coordinator cluster (replicas,
 * or load balancers). Each connection attempt starts at the URL that worked last and tries
 * the next ones in turn when it cannot connect; only when every one fails does the attempt
 * fail (and the session's reconnect backoff applies as usual).
 */
import type { Connection, Transport } from '@mutua/core/session';

export function failoverTransport(inner: Transport, urls: readonly string[]): Transport {
  if (urls.length === 0) throw new TypeError('failoverTransport needs at least one URL');
  let current = 0;
  return {
    async connect(): Promise<Connection> {
      let last: unknown;
      for (let i = 0; i < urls.length; i++) {
        const at = (current + i) % urls.length;
        try {
          const conn = await inner.connect(urls[at]!);
          current = at;
          return conn;
        } catch (err) {
          last = err;
        }
      }
      // The next attempt starts one further on: a URL that answered but refused still rotates.
      current = (current + 1) % urls.length;
      throw last;
    },
  };
}
