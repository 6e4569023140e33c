#!/usr/bin/env node
// Runs the TypeScript entry through tsx (no build step: `npx dm-agent` works right after `npm ci`).
import { register } from 'tsx/esm/api';
register();
await import('../agent/main.ts');
