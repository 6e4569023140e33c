#!/usr/bin/env node
// dmctl: the compiled tui/main from dist/, or its TypeScript source through tsx in an unbuilt checkout (bin/dist.js).
import { run } from './dist.js';
await run('tui/main');
