/**
 * Acceptance 6 (issue #2) and issue #18: `npm run demo` (headless for a bounded time) shows the load while it runs,
 * prints the exact command that opens the dashboard, survives a task error it provokes itself (TSDM_DEMO_TRY_ERROR:
 * the `e` step), prints the dmctl commands that resolve it, and goes on once the printed `binlog skip` command is
 * run; it ends with the writer stopped, the task synced and both sides equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

/** Runs a printed command line (`node …/bin/dmctl.js --nats URL --cluster dm …`) as printed, without a shell. */
function runPrinted(line: string): Promise<{ code: number | null; out: string }> {
  const [cmd, ...args] = line.trim().split(/\s+/);
  return new Promise((res) => {
    const c = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.stderr.on('data', (d) => {
      out += d;
    });
    c.on('exit', (code) => res({ code, out }));
  });
}

test('npm run demo shows the load, the dashboard command, survives a task error and ends equal', {
  timeout: 400_000,
}, async () => {
  const child = spawn('npm', ['run', '--silent', 'demo'], {
    env: { ...process.env, TSDM_DEMO_SECONDS: '3', TSDM_DEMO_TIMEOUT: '180', TSDM_DEMO_TRY_ERROR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let skip: Promise<{ code: number | null; out: string }> | undefined;
  child.stdout.on('data', (d) => {
    stdout += d;
    // The demo waits for the user: do what it says, with the command exactly as printed.
    const m = /^\s+(node \S+ --nats \S+ --cluster dm binlog skip shop-migration)\b/m.exec(stdout);
    if (m && !skip) skip = runPrinted(m[1]!);
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 380_000);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearTimeout(killer);
  const skipped = skip && code !== 0 ? await skip : undefined;
  const tail = `\n${stdout.slice(-4000)}\n${stderr.slice(-2000)}${skipped ? `\nthe printed binlog skip exited ${skipped.code}:\n${skipped.out}` : ''}`;
  assert.equal(code, 0, `demo exited ${code}${tail}`);
  const lines = stdout.split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));

  // The dashboard, in another terminal: the exact command with the sandbox's NATS URL and the cluster.
  const dash = at(/open the dashboard in another terminal/);
  assert.ok(dash >= 0, tail);
  assert.match(
    lines[dash + 1]!,
    /^\s+node \S+\/bin\/dmctl\.js --nats nats:\/\/127\.0\.0\.1:\d+ --cluster dm dashboard$/,
  );

  // The load as it happens: progress lines before it finished, at least one of them short of 100 %.
  const loads = lines.filter((l) => /\[demo\]\S*\s+load +\d+\.\d%  rows \d+\/\d+  chunks \d+\/\d+/.test(l));
  assert.ok(loads.length >= 1, tail);
  assert.ok(
    loads.some((l) => !/100\.0%/.test(l)),
    `a progress line while loading${tail}`,
  );
  const finished = at(/load finished after/);
  const synced = at(/SYNCED: the downstream caught up/);
  assert.ok(finished > at(/\[demo\]\S*\s+load +\d/) && synced > finished, tail);

  // The task error does not end the demo: it prints how to see and skip it, and goes on once skipped.
  const err = at(/TASK ERROR: the task paused/);
  assert.ok(err > synced, tail);
  assert.match(stdout, /TSDM-30003/);
  assert.match(stdout, /--cluster dm query-status shop-migration/);
  assert.ok(skip, `the demo printed the binlog skip command${tail}`);
  const s = await skip;
  assert.equal(s.code, 0, `printed binlog skip: ${s.out}`);
  assert.ok(at(/RESOLVED: the task runs again/) > err, tail);

  assert.match(stdout, /CHECK: upstream and downstream are equal \(4 tables\)/);
  assert.match(stdout, /stopping everything/);
});
