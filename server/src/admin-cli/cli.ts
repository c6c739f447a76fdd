/** The process around main(): real stdout/stderr, Ctrl-C / SIGTERM end --follow cleanly. */
import { main } from './main.ts';

const controller = new AbortController();
let signals = 0;
const onSignal = () => {
  // A second Ctrl-C quits at once, whatever is in flight.
  if (++signals > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(
  process.argv.slice(2),
  process.env,
  {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTty: process.stderr.isTTY === true,
  },
  controller.signal,
);
// Wait for stdout to drain (a pipe may be slow), then exit: undici keep-alive sockets would hold the loop open.
process.stdout.write('', () => process.exit(code));
