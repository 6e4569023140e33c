/**
 * The shipped deployment files say what the agent does: deploy/agent.yaml documents every agent.yaml key (a new key
 * without a sample entry fails here) and parses, deploy/dm-agent.default names every variable, and the systemd unit
 * reads both optionally (issue #17, "Deployment that works as written").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_FIELDS, chooseAgentConfigFile, loadAgentConfig, readAgentFile } from '../../src/config/agent-config.ts';
import { DmError } from '../../src/errors/index.ts';
import { parseEnvFile, parseUnit, splitExecStart, unitValue } from '../harness/systemd.ts';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
const sample = read('deploy/agent.yaml');
const envSample = read('deploy/dm-agent.default');
const unit = parseUnit(read('agent/dm-agent.service'));

/** `key: value` lines, active or commented out as `# key: value`. */
const KEY_LINE = /^(# )?([a-z][a-z0-9-]*):(\s|$)/;
const sampleKeys = sample
  .split('\n')
  .map((l) => KEY_LINE.exec(l)?.[2])
  .filter((k): k is string => k !== undefined);
const schemaKeys = AGENT_FIELDS.map((f) => f.key);

test('deploy/agent.yaml has exactly the keys of the agent config schema, each once', () => {
  assert.deepEqual([...sampleKeys].sort(), [...schemaKeys].sort());
});

test('deploy/agent.yaml gives each key a comment with its default', () => {
  // A paragraph is a run of non-blank lines: its comment lines document the keys in it.
  for (const para of sample.split(/\n\s*\n/)) {
    const keys = para.split('\n').filter((l) => KEY_LINE.test(l));
    if (keys.length === 0) continue;
    const prose = para
      .split('\n')
      .filter((l) => l.startsWith('#') && !KEY_LINE.test(l))
      .join('\n');
    assert.match(prose, /Default/, `the comment of ${keys.join(', ')} names the default`);
  }
});

test('deploy/agent.yaml parses as it is, and with every example uncommented', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-sample-'));
  try {
    const file = join(dir, 'agent.yaml');
    readAgentFile(sample, file);
    const all = sample.replace(/^# ([a-z][a-z0-9-]*:)/gm, '$1');
    const parsed = readAgentFile(all, file);
    assert.equal(Object.keys(parsed).length, schemaKeys.length, 'every uncommented key is read');
    writeFileSync(file, sample);
    const cfg = loadAgentConfig({}, {}, file);
    assert.equal(cfg.cluster, 'dm');
    assert.equal(cfg.metricsAddr, ':8262', "the sample serves metrics on DM-worker's port");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy/dm-agent.default names the variable of every agent.yaml key, and its examples load', () => {
  const vars = [...envSample.matchAll(/^#?(TSDM_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  assert.deepEqual(vars.filter((v) => v !== 'TSDM_RELAY_QUEUE_ROWS').sort(), AGENT_FIELDS.map((f) => f.env).sort());
  assert.deepEqual(parseEnvFile(envSample), {}, 'the sample sets nothing until a line is uncommented');
  const env = parseEnvFile(envSample.replace(/^#(TSDM_)/gm, '$1'));
  const cfg = loadAgentConfig({}, env);
  assert.equal(cfg.name, 'agent-1');
  assert.equal(cfg.replicas, 3);
});

test('the systemd unit reads /etc/default/dm-agent and /etc/tsdm/agent.yaml only if they exist', () => {
  assert.equal(unitValue(unit, 'Service', 'EnvironmentFile'), '-/etc/default/dm-agent');
  const argv = splitExecStart(unitValue(unit, 'Service', 'ExecStart'));
  assert.deepEqual(argv, ['/opt/tsdm/bin/dm-agent', '--config-if-exists', '/etc/tsdm/agent.yaml']);
  assert.equal(unitValue(unit, 'Service', 'WorkingDirectory'), '/var/lib/tsdm');
  assert.equal(unitValue(unit, 'Service', 'StateDirectory'), 'tsdm');
  assert.equal(unitValue(unit, 'Service', 'KillSignal'), 'SIGTERM');
});

test('--config-if-exists: a missing file means defaults; --config to a missing file stays an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-cfgfile-'));
  try {
    const missing = join(dir, 'agent.yaml');
    assert.equal(chooseAgentConfigFile(undefined, missing).file, undefined);
    assert.match(chooseAgentConfigFile(undefined, missing).note, /no .*agent\.yaml/);
    assert.equal(chooseAgentConfigFile(undefined, join(dir, 'nodir', 'x', 'agent.yaml')).file, undefined);
    const explicit = chooseAgentConfigFile(missing, missing);
    assert.equal(explicit.file, missing);
    assert.throws(
      () => loadAgentConfig({}, {}, explicit.file),
      (e: unknown) => e instanceof DmError && e.code === 'TSDM-10001',
    );
    writeFileSync(missing, 'cluster: fromfile\n');
    assert.equal(chooseAgentConfigFile(undefined, missing).file, missing);
    assert.equal(loadAgentConfig({}, {}, chooseAgentConfigFile(undefined, missing).file).cluster, 'fromfile');
    // Something that is there but cannot be read as a file is not "absent": it is read, and fails.
    const asDir = join(dir, 'conf.d');
    mkdirSync(asDir);
    assert.equal(chooseAgentConfigFile(undefined, asDir).file, asDir);
    assert.throws(() => loadAgentConfig({}, {}, asDir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
