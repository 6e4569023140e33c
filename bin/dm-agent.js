#!/usr/bin/env node
// dm-agent: the compiled agent/main from dist/, or its TypeScript source through tsx in an unbuilt checkout (bin/dist.js).
import { run } from './dist.js';
await run('agent/main');
