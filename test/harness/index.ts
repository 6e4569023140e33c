/** Test harness: private mariadbd and nats-server instances, data comparison, polling. Used by tests and the demo. */
export { freePort } from './ports.ts';
export { startMariaDB, TEST_PASSWORD, type MariaDBInstance, type StartMariaDBOptions } from './mariadb.ts';
export { startNats, startNatsCluster, type NatsInstance, type NatsCluster, type StartNatsOptions } from './nats.ts';
export { startSandbox, type Sandbox, type SandboxOptions } from './sandbox.ts';
export {
  compareTables,
  compareSchemas,
  type CompareOptions,
  type CompareResult,
  type SchemaCompareResult,
  type TableRef,
  type DbEndpoint,
} from './compare.ts';
export { waitFor, sleep } from './wait.ts';
export { findBinary } from './processes.ts';
export { runToExit, type ExitResult, type RunToExitOptions } from './run-to-exit.ts';
export { agentNodeFlags, requireDist } from './tsdm.ts';
