/** Public surface of config loading: agent/ and tui/ import from here, not from the files behind it. */
export type * from './types.ts';
export {
  parseSourceConfig,
  loadSourceConfig,
  sampleSourceYaml,
  MAX_SOURCE_ID_LENGTH,
  PURGE_DEFAULTS,
} from './source-config.ts';
export {
  parseTaskConfig,
  loadTaskConfig,
  recordLoadOptions,
  type TaskLoadOptions,
  type TaskLoadResult,
} from './task-config.ts';
export { TASK_DEFAULTS } from './task-units.ts';
export { loadAgentConfig, readAgentFile, AGENT_FIELDS, AGENT_DEFAULTS, type AgentConfig } from './agent-config.ts';
export { redact, redactUrl, REDACTED } from './redact.ts';
export { UNSUPPORTED_KEYS, NO_EFFECT_KEYS, type KeyRule } from './unsupported.ts';
export { formatNote, type ConfigNote } from './yaml-source.ts';
export { DM_EVENT_NAMES, normaliseEventType, parseGoDuration } from './dm-values.ts';
