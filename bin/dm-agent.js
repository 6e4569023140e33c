#!/usr/bin/env -S node --max-semi-space-size=32
// V8's young generation at 32 MB per semi-space (16 by default): during a catch-up the reader and the batch keep a few
// MB of rows alive across each scavenge, so a larger nursery means fewer scavenges for the same work: 8-15 % less of
// the agent's CPU per row change for ~30 MB more RSS (bench/README.md). `node bin/dm-agent.js` skips this line: pass
// the flag (or NODE_OPTIONS=--max-semi-space-size=32) there; the test harness reads it from here.
// dm-agent: the compiled agent/main from dist/, or its TypeScript source through tsx in an unbuilt checkout (bin/dist.js).
import { run } from './dist.js';
await run('agent/main');
