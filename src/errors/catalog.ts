import type { ErrorSpec } from './spec.ts';
import { configErrors } from './catalog-config.ts';
import { upstreamErrors } from './catalog-upstream.ts';
import { downstreamErrors } from './catalog-downstream.ts';
import { relayErrors } from './catalog-relay.ts';
import { coordinationErrors } from './catalog-coordination.ts';
import { internalErrors } from './catalog-internal.ts';

/**
 * The error catalog: every error a user can see has a stable code listed here, one file per class (catalog-*.ts).
 * Ranges: 1xxxx config, 2xxxx upstream, 3xxxx downstream, 4xxxx relay, 5xxxx coordination, 6xxxx internal.
 * `docs/errors.md` is generated from this table (`npm run docs:errors`), in this order; never renumber a code.
 * A name is in exactly one part (test/unit/errors.test.ts): spread, a repeated name would hide the other silently.
 */
export const Errors = {
  ...configErrors,
  ...upstreamErrors,
  ...downstreamErrors,
  ...relayErrors,
  ...coordinationErrors,
  ...internalErrors,
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof Errors;
