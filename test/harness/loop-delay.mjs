// Preloaded into an agent a test starts (NODE_OPTIONS=--import): logs the event loop's longest delay every second as
// a JSON line in the agent's log, so a test can print what a long synchronous step cost (big-txn.test.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
setInterval(() => {
  process.stderr.write(`${JSON.stringify({ msg: 'loop delay', maxMs: Math.round(h.max / 1e6) })}\n`);
  h.reset();
}, 1000).unref();
