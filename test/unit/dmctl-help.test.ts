/** `--help` output of dmctl and each command is part of the contract (docs/commands.md): fixed by golden files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { COMMANDS, main } from '../../tui/main.ts';
import { DASHBOARD } from '../../tui/commands/registry.ts';
import { sink } from './sink.ts';

async function help(args: string[]): Promise<string> {
  const out = sink();
  const err = sink();
  const code = await main(args, out.stream, err.stream);
  assert.equal(code, 0, err.text());
  return out.text();
}

const golden = (name: string, actual: string) => {
  const p = new URL(`./golden/${name}.txt`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(p, actual);
  assert.equal(
    actual,
    readFileSync(p, 'utf8'),
    `${name} --help changed: review, then UPDATE_GOLDEN=1 npm test -- unit dmctl-help`,
  );
};

test('dmctl --help lists every command', async () => {
  const text = await help(['--help']);
  for (const c of COMMANDS) assert.match(text, new RegExp(`\\b${c.name}\\b`));
  golden('dmctl', text);
});

test('the command table (loaded lazily) names each command as the command itself does', async () => {
  for (const e of [...COMMANDS, DASHBOARD]) {
    const c = await e.load();
    assert.equal(c.name, e.name);
    assert.equal(c.summary, e.summary, `${e.name}: the summary in tui/commands/registry.ts differs from the command's`);
  }
});

for (const c of COMMANDS) {
  test(`dmctl ${c.name} --help`, async () => golden(c.name, await help([c.name, '--help'])));
}

test('an unknown command is a usage error (exit 2)', async () => {
  const err = sink();
  assert.equal(await main(['no-such-command'], sink().stream, err.stream), 2);
  assert.match(err.text(), /unknown command "no-such-command"/);
});
