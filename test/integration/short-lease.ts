/**
 * Imported first by a test file (before anything that loads src/coord): the cluster it starts uses a 5 s lease and
 * a 1 s heartbeat instead of 10 s and 2 s (TSDM_TEST_LEASE_MS, src/coord/buckets.ts). The test process, its agents
 * and its dmctl runs all read the same value: agents inherit this process's environment. The protocol is the same;
 * each failover waits half as long. A value set from outside wins.
 */
process.env.TSDM_TEST_LEASE_MS ??= '5000';
