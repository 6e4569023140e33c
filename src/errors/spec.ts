import type { ErrorClass } from './classes.ts';

/** An entry of the error catalog (catalog.ts): a stable code, its class, whether it is retried, and what to do. */
export interface ErrorSpec {
  readonly code: string;
  readonly class: ErrorClass;
  readonly retryable: boolean;
  readonly title: string;
  readonly suggestion: string;
}

export function spec(code: string, cls: ErrorClass, retryable: boolean, title: string, suggestion: string): ErrorSpec {
  return { code, class: cls, retryable, title, suggestion };
}
