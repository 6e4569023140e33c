/** Issue #12 acceptance 1, reading the upstream binlog directly (enable-relay: false): see chaos-ddl-scenario.ts. */
import { test } from 'node:test';
import { chaosDdl } from './chaos-ddl-scenario.ts';

test('8 SIGKILLs during a load with DDL between them end equal, without relay', { timeout: 900_000 }, async () => {
  await chaosDdl({ relay: false, kills: 8, tag: 'chaos-ddl' });
});
