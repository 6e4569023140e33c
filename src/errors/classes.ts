/** Error classes (DESIGN.md §5). A `const` object with a derived union, not an enum (CONVENTIONS). */
export const ErrorClass = {
  config: 'config',
  upstream: 'upstream',
  downstream: 'downstream',
  relay: 'relay',
  coordination: 'coordination',
  internal: 'internal',
} as const;
export type ErrorClass = (typeof ErrorClass)[keyof typeof ErrorClass];
