export { ErrorClass } from './classes.ts';
export { Errors, type ErrorName } from './catalog.ts';
export type { ErrorSpec } from './spec.ts';
export {
  DmError,
  RemoteDmError,
  asDmError,
  isDmError,
  formatRecord,
  type ErrorContext,
  type ErrorRecord,
} from './dm-error.ts';
