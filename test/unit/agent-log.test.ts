/**
 * The agent's log lines (agent/log.ts): valid JSON, one key once per line (pino's own fields, the bindings of the
 * agent, subtask and relay loggers, the logged object), level names as text, ISO times, no secret; the text/JSON
 * choice; the rotated --log-file (mode 0600, at most `keep` files). And the lines of the state changes that matter,
 * from the real election and scheduler code over an in-memory KV: leadership won/lost with its reason, bindings
 * with from/to and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Election, LostReason } from '../../agent/cluster/election.ts';
import { schedule } from '../../agent/cluster/scheduler.ts';
import { loggerOptions, openLogger, resolveFormat } from '../../agent/log.ts';
import { Bucket, type Coord, type Entry } from '../../src/coord/index.ts';
import { duplicateKeys } from '../harness/json-keys.ts';

/** A logger like the agent's, writing into an array. */
function capture(level = 'debug'): { log: pino.Logger; lines: string[]; parsed: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = pino(loggerOptions('dm-agent', level), { write: (l: string) => void lines.push(l.trimEnd()) });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function assertClean(lines: string[]): void {
  assert.ok(lines.length > 0, 'something was logged');
  for (const l of lines) {
    JSON.parse(l);
    assert.deepEqual(duplicateKeys(l), [], `no key twice: ${l}`);
  }
}

test('the duplicate-key scanner finds what JSON.parse hides', () => {
  assert.deepEqual(duplicateKeys('{"name":"dm-agent","a":{"x":1,"x":2},"name":"bar-b1"}'), ['x', 'name']);
  assert.deepEqual(duplicateKeys('{"a":[{"b":1},{"b":2}],"c":"\\"}"}'), []);
  assert.throws(() => duplicateKeys('{"a":1'));
});

test('a line: level name, ISO time, the bindings of agent, subtask and relay loggers, each key once', () => {
  const { log, lines, parsed } = capture();
  const agent = log.child({ agent: 'a1' });
  const subtask = agent.child({ task: 'bar', source: 'b1' });
  const relay = agent.child({ source: 'b1', unit: 'relay' });
  agent.info({ version: '0.1.0' }, 'agent started');
  // Keys the bindings (or pino) already write: an equal value is dropped, a different one kept as key_.
  agent.info({ name: 'bar-b1', agent: 'a1', pid: 1, msg: 'x' }, 'collisions');
  subtask.warn({ task: 'bar', source: 'b2', unit: 'load', attempt: 2, delayMs: 400 }, 'retrying chunk');
  relay.info({ source: 'b1', from: 'Running', to: 'Paused' }, 'relay stage changed');
  subtask.error({ err: new Error('boom') }, 'with an error');
  assertClean(lines);
  const [started, coll, retry, stage, withErr] = parsed();
  assert.equal(started!.level, 'info');
  assert.match(String(started!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(started!.name, 'dm-agent');
  assert.equal(started!.agent, 'a1');
  assert.equal(coll!.name, 'dm-agent');
  assert.equal(coll!.name_, 'bar-b1');
  assert.equal(coll!.agent_, undefined, 'an equal value is not repeated');
  assert.equal(coll!.pid, process.pid);
  assert.equal(coll!.pid_, 1);
  assert.equal(coll!.msg, 'collisions');
  assert.equal(retry!.level, 'warn');
  assert.equal(retry!.source, 'b1');
  assert.equal(retry!.source_, 'b2');
  assert.equal(retry!.unit, 'load');
  assert.equal(stage!.unit, 'relay');
  assert.equal(withErr!.level, 'error');
  assert.equal((withErr!.err as { message: string }).message, 'boom');
});

test('no secret in a line: secret-named keys at any depth, URL credentials in fields, messages, errors', () => {
  const { log, lines } = capture();
  const l = log.child({ agent: 'a1', password: 'bindpw' });
  l.info(
    {
      password: 'pw1',
      natsToken: 'tok1',
      from: { host: 'h', password: 'pw2', user: 'u' },
      deep: { a: { b: { secret: 'pw3', apiToken: 'tok2' } } },
      url: 'mysql://root:pw4@db:3306',
    },
    'connecting to nats://u:pw5@h:4222',
  );
  l.error({ err: new Error('refused by nats://u:pw6@h') }, 'failed');
  l.warn('plain message with nats://u:pw7@h');
  assertClean(lines);
  const all = lines.join('\n');
  for (const s of ['bindpw', 'pw1', 'tok1', 'pw2', 'pw3', 'tok2', 'pw4', 'pw5', 'pw6', 'pw7'])
    assert.ok(!all.includes(s), `${s} is not logged: ${all}`);
  assert.match(all, /"password":"\*\*\*\*\*\*"/);
});

test('--log-level is applied: debug lines only at debug', () => {
  const info = capture('info');
  info.log.debug('hidden');
  info.log.info('shown');
  assert.deepEqual(
    info.parsed().map((l) => l.msg),
    ['shown'],
  );
});

test('text on a terminal, JSON otherwise, unless forced', () => {
  assert.equal(resolveFormat(undefined, true), 'text');
  assert.equal(resolveFormat('auto', true), 'text');
  assert.equal(resolveFormat('auto', false), 'json');
  assert.equal(resolveFormat('json', true), 'json');
  assert.equal(resolveFormat('text', false), 'text');
});

test('--log-file: rotated at the size, at most keep files, each 0600; text when forced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-log-'));
  try {
    const file = join(dir, 'logs', 'agent.log');
    const { log, close } = await openLogger('dm-agent', { level: 'info', file, fileMaxSize: '1k', fileKeep: 3 });
    const a = log.child({ agent: 'a1' });
    const numbers = () => readdirSync(join(dir, 'logs')).map((f) => Number(f.split('.')[1]));
    // Rotation happens when the file stream drains: write until the 5th file was started (bounded), then wait
    // for the clean-up of the oldest (bounded).
    let i = 0;
    for (; i < 5000 && Math.max(...numbers()) < 5; i++) {
      a.info({ i, pad: 'x'.repeat(60) }, 'line');
      await new Promise((r) => setTimeout(r, 1));
    }
    for (let w = 0; w < 200 && numbers().length > 3; w++) await new Promise((r) => setTimeout(r, 10));
    a.info({ i }, 'line');
    await close();
    const files = readdirSync(join(dir, 'logs')).sort((x, y) => Number(x.split('.')[1]) - Number(y.split('.')[1]));
    assert.equal(Math.max(...numbers()), 5, `rotated: ${files.join(' ')}`);
    assert.equal(files.length, 3, `the newest 3 files are kept: ${files.join(' ')}`);
    for (const f of files) {
      assert.match(f, /^agent\.\d+\.log$/);
      assert.equal(statSync(join(dir, 'logs', f)).mode & 0o777, 0o600, `${f} is 0600`);
      const text = readFileSync(join(dir, 'logs', f), 'utf8').trimEnd();
      assertClean(text.split('\n'));
    }
    const last = readFileSync(join(dir, 'logs', files.at(-1)!), 'utf8')
      .trimEnd()
      .split('\n')
      .at(-1)!;
    assert.equal((JSON.parse(last) as { i: number }).i, i, 'the newest line is in the highest-numbered file');
    assert.equal(statSync(join(dir, 'logs')).mode & 0o777, 0o700, 'a directory it creates is 0700');

    const tfile = join(dir, 'text', 'agent.log');
    const t = await openLogger('dm-agent', { level: 'info', file: tfile, format: 'text' });
    t.log.child({ agent: 'a1' }).warn({ term: 3, reason: 'lease expired' }, 'lost leadership');
    await t.close();
    const text = readFileSync(join(dir, 'text', 'agent.1.log'), 'utf8');
    assert.match(text, /WARN.*lost leadership.*"reason":"lease expired"/);
    assert.ok(!text.includes('\u001b['), 'no colour codes in a file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** An in-memory KV with the Coord calls the election and the scheduler make (compare-and-set by revision). */
class MemoryCoord {
  private rev = 0;
  readonly buckets = new Map<Bucket, Map<string, { value: unknown; revision: number }>>();
  failing = false;
  private b(b: Bucket) {
    if (this.failing) throw new Error('NATS connection closed');
    let m = this.buckets.get(b);
    if (!m) this.buckets.set(b, (m = new Map()));
    return m;
  }
  async get<T>(b: Bucket, key: string): Promise<Entry<T> | undefined> {
    const e = this.b(b).get(key);
    return e ? { key, value: e.value as T, revision: e.revision, deleted: false } : undefined;
  }
  async put<T>(b: Bucket, key: string, value: T): Promise<number> {
    this.b(b).set(key, { value, revision: ++this.rev });
    return this.rev;
  }
  async create<T>(b: Bucket, key: string, value: T): Promise<number | undefined> {
    if (this.b(b).has(key)) return undefined;
    return this.put(b, key, value);
  }
  async update<T>(b: Bucket, key: string, value: T, revision: number): Promise<number | undefined> {
    if (this.b(b).get(key)?.revision !== revision) return undefined;
    return this.put(b, key, value);
  }
  async delete(b: Bucket, key: string): Promise<void> {
    this.b(b).delete(key);
  }
  async list<T>(b: Bucket): Promise<Entry<T>[]> {
    return [...this.b(b)].map(([key, e]) => ({ key, value: e.value as T, revision: e.revision, deleted: false }));
  }
  needsRepair(): boolean {
    return false;
  }
  async inspect(): Promise<boolean> {
    return true;
  }
}

/** One election tick, as the timer runs it (start() without the timer). */
async function step(e: Election): Promise<void> {
  await (e as unknown as { tick(): Promise<void> }).tick();
}

test('leadership: won, lost with the reason (key gone, another leader, resigned), one line per change', async () => {
  const { log, lines, parsed } = capture();
  const kv = new MemoryCoord();
  const coord = kv as unknown as Coord;
  const a1 = new Election(coord, 'a1', log.child({ agent: 'a1' }), async () => {});
  const a2 = new Election(coord, 'a2', log.child({ agent: 'a2' }), async () => {});
  await step(a1);
  await step(a1); // a renewal: no line
  await step(a2); // a follower sees the leader once
  await step(a2);
  // The key expired while a1 was busy (the event loop under load): a1 says so before it wins again.
  kv.buckets.get(Bucket.leader)!.clear();
  await step(a1);
  await step(a2);
  // a2 took the key over (a1's expired and a2 was faster).
  kv.buckets.get(Bucket.leader)!.clear();
  await step(a2);
  await step(a1);
  await a2.resign('evicted by dmctl operate-leader evict');
  assertClean(lines);
  const got = parsed().map((l) => `${l.agent} ${l.level} ${l.msg} ${l.term ?? ''} ${l.reason ?? l.leader ?? ''}`);
  assert.deepEqual(got, [
    'a1 info became leader 1 ',
    'a2 info leader changed 1 a1',
    `a1 warn lost leadership 1 ${LostReason.leaseExpired}`,
    'a1 info became leader 2 ',
    'a2 info leader changed 2 a1',
    'a2 info became leader 3 ',
    `a1 warn lost leadership 2 ${LostReason.leaseExpired}`,
    'a1 info leader changed 3 a2',
    `a2 warn lost leadership 3 ${LostReason.resigned}`,
  ]);
});

test('a failing election step warns once, then says when steps succeed again', async () => {
  const { log, lines, parsed } = capture('info');
  const kv = new MemoryCoord();
  const e = new Election(kv as unknown as Coord, 'a1', log.child({ agent: 'a1' }), async () => {});
  await step(e);
  kv.failing = true;
  await step(e);
  await step(e); // the second failure in a row: debug only
  kv.failing = false;
  await step(e);
  assertClean(lines);
  assert.deepEqual(
    parsed().map((l) => `${l.msg} ${l.failures ?? ''}`),
    ['became leader ', 'election step failed ', 'election steps succeed again 2'],
  );
});

test('bindings: bound, moved (agent gone), unbound (source removed), with from/to and why', async () => {
  const { log, lines, parsed } = capture();
  const kv = new MemoryCoord();
  const coord = kv as unknown as Coord;
  await kv.put(Bucket.members, 'a1', { name: 'a1' });
  await kv.put(Bucket.members, 'a2', { name: 'a2' });
  await kv.put(Bucket.sources, 'source.b1', { sourceId: 'b1' });
  const leader = log.child({ agent: 'a1' });
  await schedule(coord, 1, leader);
  await schedule(coord, 1, leader); // nothing to do: no line
  const bound = (await kv.list<{ agent: string }>(Bucket.bounds))[0]!.value.agent;
  await kv.delete(Bucket.members, bound);
  await schedule(coord, 1, leader);
  await kv.delete(Bucket.sources, 'source.b1');
  await schedule(coord, 1, leader);
  assertClean(lines);
  const other = bound === 'a1' ? 'a2' : 'a1';
  const got = parsed().map((l) => [l.msg, l.source, l.from, l.to, l.reason]);
  assert.deepEqual(got, [
    ['source bound', 'b1', undefined, 'a1', 'not bound'],
    ['source bound', 'b1', bound, other, `agent ${bound} is gone (no member key)`],
    ['source unbound', 'b1', other, undefined, 'source removed'],
  ]);
});
