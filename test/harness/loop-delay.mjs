// Preloaded into an agent a test starts (NODE_OPTIONS=--import): logs the event loop's longest delay every second as
// a JSON line in the agent's log, with the heap's and buffers' size, so a test can print what a long synchronous step
// cost and where memory went (big-txn.test.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const mb = (n) => Math.round(n / 1048576);
setInterval(() => {
  const m = process.memoryUsage();
  const line = {
    msg: 'loop delay',
    maxMs: Math.round(h.max / 1e6),
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    heapTotalMb: mb(m.heapTotal),
    externalMb: mb(m.external),
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
  h.reset();
}, 1000).unref();
