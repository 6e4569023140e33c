#!/usr/bin/env -S node --max-semi-space-size=32 --initial-old-space-size=64
// V8's young generation at 32 MB per semi-space (16 by default): during a catch-up the reader and the batch keep a few
// MB of rows alive across each scavenge, so a larger nursery means fewer scavenges for the same work: 8-15 % less of
// the agent's CPU per row change for ~30 MB more RSS (bench/README.md). No full GC below 64 MB of old generation plus
// buffers (--initial-old-space-size sets that floor): the load's socket and file buffers (~190 MB per 1M rows, short
// lived, outside the JS heap) otherwise start a full GC every ~25 MB, ten per second over a ~25 MB heap: the floor cut
// the agent's CPU per loaded row by over a quarter for ~15 MB more RSS (bench/README.md). `node bin/dm-agent.js`
// skips this line: pass the flags there (NODE_OPTIONS takes --max-semi-space-size, not the other); the test harness
// reads them from here.
// dm-agent: the compiled agent/main from dist/, or its TypeScript source through tsx in an unbuilt checkout (bin/dist.js).
import { run } from './dist.js';
await run('agent/main');
