import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskNameArg } from '../../tui/commands/shared.ts';

test("a task file in place of TASK-NAME stands for its name (DM's dmctl: stop-task task.yaml)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-taskarg-'));
  const file = join(dir, 'task.yaml');
  writeFileSync(file, 'name: shop-migration\ntask-mode: all\n');
  assert.equal(taskNameArg(file), 'shop-migration');
  writeFileSync(join(dir, 'b.yml'), '---\nname: "other"\n');
  assert.equal(taskNameArg(join(dir, 'b.yml')), 'other');
  // Anything else is the name as typed: a name, a missing file, a file without a name or not YAML.
  assert.equal(taskNameArg('shop-migration'), 'shop-migration');
  assert.equal(taskNameArg(join(dir, 'missing.yaml')), join(dir, 'missing.yaml'));
  writeFileSync(join(dir, 'noname.yaml'), 'task-mode: all\n');
  assert.equal(taskNameArg(join(dir, 'noname.yaml')), join(dir, 'noname.yaml'));
  writeFileSync(join(dir, 'bad.yaml'), 'name: [unclosed\n');
  assert.equal(taskNameArg(join(dir, 'bad.yaml')), join(dir, 'bad.yaml'));
});
