/**
 * The optional Origin allow-list of the participant WebSocket. Participants authenticate
 * with a token in Hello, not with an ambient credential (no cookie), so a foreign page
 * gains nothing from a participant's browser; the list is defence in depth for operators
 * who want only their own pages to connect.
 *
 * With a list: a request without Origin (Node clients, other programs) is allowed; a
 * browser's Origin must be in the list or be the coordinator's own (the join page it serves).
 * Without a list every Origin is allowed.
 */

/** Origins as `scheme://host[:port]`, lower case, without a trailing slash. */
export function parseOrigins(csv: string): string[] {
  return csv
    .split(',')
    .map((o) => o.trim().toLowerCase().replace(/\/+$/, ''))
    .filter((o) => o !== '');
}

export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | undefined,
): boolean {
  if (!allowed || allowed.length === 0 || origin === undefined) return true;
  const o = origin.toLowerCase().replace(/\/+$/, '');
  if (allowed.includes('*') || allowed.includes(o)) return true;
  // The coordinator's own pages (the join page) connect back to where they came from.
  try {
    return host !== undefined && new URL(o).host === host.toLowerCase();
  } catch {
    return false;
  }
}
