export { ErrorClass } from './classes.ts';
export { Errors, type ErrorName, type ErrorSpec } from './catalog.ts';
export {
  DmError,
  RemoteDmError,
  asDmError,
  isDmError,
  formatRecord,
  type ErrorContext,
  type ErrorRecord,
} from './dm-error.ts';
