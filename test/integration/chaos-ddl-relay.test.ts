/** Issue #12 acceptance 1, with the source's relay log (enable-relay: true): see chaos-ddl-scenario.ts. */
import { test } from 'node:test';
import { chaosDdl } from './chaos-ddl-scenario.ts';

test('8 SIGKILLs during a load with DDL between them end equal, with relay', { timeout: 900_000 }, async () => {
  await chaosDdl({ relay: true, kills: 8, tag: 'chaos-ddl-relay' });
});
