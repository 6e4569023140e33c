/** The long-flag check dm-agent and dmctl run before meow (src/config/cli-flags.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unknownFlagProblem } from '../../src/config/cli-flags.ts';

const FLAGS = {
  nats: { type: 'string' },
  natsUser: { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'number' },
} as const;

test('a flag is known by its exact name only: --nats-tokn is not --nats', () => {
  assert.equal(unknownFlagProblem(['--nats', 'x', '--nats-user=u', '--json', '--no-json', 'arg'], FLAGS), undefined);
  assert.equal(unknownFlagProblem(['--nats-tokn', 'x'], FLAGS), 'unknown flag --nats-tokn');
  assert.equal(unknownFlagProblem(['--nats-foo=1'], FLAGS), 'unknown flag --nats-foo');
  assert.equal(unknownFlagProblem(['--no-timeout'], FLAGS), 'unknown flag --no-timeout', 'no- only negates a boolean');
  assert.equal(unknownFlagProblem(['--help'], FLAGS, ['help']), undefined);
});

test('a value is skipped even if it starts with --, and -- ends the flags', () => {
  assert.equal(unknownFlagProblem(['--nats', '--weird', '--json'], FLAGS), undefined);
  assert.equal(unknownFlagProblem(['--', '--anything'], FLAGS), undefined);
});

test('a secret given as a flag is refused with where it goes instead', () => {
  assert.match(
    unknownFlagProblem(['--nats-password', 'pw'], FLAGS) ?? '',
    /visible to every user.*TSDM_NATS_PASSWORD.*--nats-password-file/,
  );
  assert.match(unknownFlagProblem(['--nats-token=t'], FLAGS) ?? '', /TSDM_NATS_TOKEN.*--nats-token-file/);
});

test('short flags are checked too (meow would print its own text and exit, with no --json document)', () => {
  const flags = {
    ...FLAGS,
    source: { type: 'string', shortFlag: 's' },
    warn: { type: 'number', shortFlag: 'w' },
  } as const;
  assert.equal(unknownFlagProblem(['-s', 'source1', '-ssource2', '-w', '3', '-h', 'task.yaml'], flags), undefined);
  assert.equal(unknownFlagProblem(['-x'], flags), 'unknown flag -x');
  assert.equal(unknownFlagProblem(['-s', '-x'], flags), undefined, 'a value flag takes the next argument');
  assert.equal(unknownFlagProblem(['-hx'], flags), 'unknown flag -hx');
});
