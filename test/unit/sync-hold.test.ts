/**
 * Invariant protected (agent/sync/hold.ts): a hold resolves with H only when the downstream reflects exactly the
 * stream's events ending at or before H (every writer flushed, nothing after H applied), a reached hold keeps the
 * loop still until released or expired, and an `until` already passed is refused rather than answered with a wrong
 * point. The simulation at the end drives SyncHold the way SyncUnit.loop does (agent/sync/unit.ts) over random
 * streams with skipped events (other tables) and idle gaps, and checks every answer against the applied set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { type BinlogPosition, comparePos } from '../../src/binlog/position.ts';
import { type LoopState, MAX_HOLD_TTL_MS, SyncHold } from '../../agent/sync/hold.ts';
import { Errors } from '../../src/errors/index.ts';
import { prng } from '../harness/prng.ts';

const log = pino({ level: 'silent' });
const at = (pos: number, name = 'binlog.000001'): BinlogPosition => ({ name, pos });
const state = (o: Partial<LoopState> & { taken: BinlogPosition }): LoopState => ({
  streamed: o.taken,
  writersMax: o.taken,
  barrier: false,
  nextEnd: undefined,
  ...o,
});

test('hold now stops at the read position once flushed; the same id renews, another id is refused', async () => {
  let now = 1000;
  const h = new SyncHold(log, () => now);
  const p = h.request({ holdId: 'a' });
  const d = h.decide(state({ taken: at(500), nextEnd: at(700) }));
  assert.deepEqual(d, { stop: at(500) });
  h.reached(at(500), at(500));
  assert.deepEqual(await p, at(500));
  assert.equal(h.stationary, true);
  assert.equal(h.decide(state({ taken: at(500) })), 'keep');
  assert.deepEqual(await h.request({ holdId: 'a' }), at(500));
  await assert.rejects(h.request({ holdId: 'b' }), /held by a/);
  assert.throws(() => h.release('b'), /held by a/);
  now += 5000;
  const r = h.release('a');
  assert.deepEqual(r, { position: at(500), heldMs: 5000 });
  assert.equal(h.active, false);
  assert.deepEqual(h.release('a'), {}, 'a release with nothing held is idempotent');
});

test('hold until: applies up to until, keeps the event after it, stops there', async () => {
  const h = new SyncHold(log);
  const p = h.request({ holdId: 'x', until: at(900) });
  assert.equal(h.decide(state({ taken: at(500), nextEnd: at(700) })), 'go');
  assert.equal(h.decide(state({ taken: at(700), nextEnd: at(900) })), 'go');
  assert.deepEqual(h.decide(state({ taken: at(900) })), { stop: at(900) }, 'taken == until');
  h.reached(at(900), at(900));
  assert.deepEqual(await p, at(900));

  const h2 = new SyncHold(log);
  const p2 = h2.request({ holdId: 'x', until: at(800) });
  assert.deepEqual(h2.decide(state({ taken: at(700), nextEnd: at(950) })), { stop: at(800) }, 'next event after until');
  h2.reached(at(800), at(700));
  assert.deepEqual(await p2, at(800));

  const h3 = new SyncHold(log);
  const p3 = h3.request({ holdId: 'x', until: at(339, 'binlog.000002') });
  assert.equal(h3.decide(state({ taken: at(2622) })), 'go', 'idle, stream not there yet');
  assert.deepEqual(
    h3.decide(state({ taken: at(2622), streamed: at(339, 'binlog.000002') })),
    { stop: at(339, 'binlog.000002') },
    'an idle stream past rotation events reaches until',
  );
  h3.reached(at(339, 'binlog.000002'), at(2622));
  assert.deepEqual(await p3, at(339, 'binlog.000002'));
});

test('an until already passed is refused; an earlier until within what was only skipped is accepted', async () => {
  const h = new SyncHold(log);
  const p = h.request({ holdId: 'x', until: at(600) });
  assert.equal(h.decide(state({ taken: at(700) })), 'go');
  await assert.rejects(p, (e: Error & { code?: string }) => e.code === Errors.SyncHoldPassed.code);
  assert.equal(h.active, false, 'a passed hold ends');

  const h2 = new SyncHold(log);
  const p2 = h2.request({ holdId: 'x' });
  assert.deepEqual(h2.decide(state({ taken: at(500), streamed: at(580) })), { stop: at(580) });
  h2.reached(at(580), at(500));
  assert.deepEqual(await p2, at(580));
  assert.deepEqual(await h2.request({ holdId: 'x', until: at(540) }), at(540), 'nothing taken after 500');
  await assert.rejects(h2.request({ holdId: 'x', until: at(400) }), /already applied up to/);
  assert.equal(h2.stationary, true, 'the hold stays after a refused request');

  const h3 = new SyncHold(log);
  const p3 = h3.request({ holdId: 'x', until: at(600) });
  // Writers past until by an idle checkpoint over skipped events: not passed; ahead of the stream (restart): passed.
  assert.deepEqual(h3.decide(state({ taken: at(500), streamed: at(800), writersMax: at(800) })), { stop: at(600) });
  h3.reached(at(600), at(500));
  assert.deepEqual(await p3, at(600));
  const h4 = new SyncHold(log);
  const p4 = h4.request({ holdId: 'x', until: at(600) });
  h4.decide(state({ taken: at(500), writersMax: at(800) }));
  await assert.rejects(p4, /already applied up to binlog.000001:800/);
});

test('barriers and writers ahead of the stream delay a hold; an event beyond until is kept meanwhile', () => {
  const h = new SyncHold(log);
  void h.request({ holdId: 'x' }).catch(() => undefined);
  assert.equal(
    h.decide(state({ taken: at(500), barrier: true })),
    'go',
    'hold now: sync goes on until the barrier ends',
  );
  assert.equal(h.decide(state({ taken: at(500), writersMax: at(600) })), 'go', 'writers ahead after a restart');
  const h2 = new SyncHold(log);
  void h2.request({ holdId: 'x', until: at(550) }).catch(() => undefined);
  assert.equal(h2.decide(state({ taken: at(500), barrier: true, nextEnd: at(600) })), 'keep');
  assert.equal(h2.decide(state({ taken: at(500), barrier: true, nextEnd: at(540) })), 'go');
  h2.close(new Error('stopped'));
});

test('a reached hold expires after its TTL; a hold moved forward expires only once it stands again', async () => {
  let now = 0;
  const h = new SyncHold(log, () => now);
  const p = h.request({ holdId: 'x', ttlMs: 1000 });
  h.decide(state({ taken: at(100) }));
  h.reached(at(100), at(100));
  await p;
  now = 999;
  assert.equal(h.decide(state({ taken: at(100) })), 'keep');
  now = 1001;
  assert.equal(h.decide(state({ taken: at(100) })), 'go');
  assert.equal(h.active, false);

  const p2 = h.request({ holdId: 'y', ttlMs: 1000 });
  h.decide(state({ taken: at(100) }));
  h.reached(at(100), at(100));
  await p2;
  now = 5000;
  const p3 = h.request({ holdId: 'y', until: at(300), ttlMs: 1000 });
  assert.equal(h.stationary, false, 'moving toward until');
  now = 9000;
  assert.equal(h.decide(state({ taken: at(100), nextEnd: at(200) })), 'go', 'no expiry while moving');
  assert.deepEqual(h.decide(state({ taken: at(300) })), { stop: at(300) });
  h.reached(at(300), at(300));
  assert.deepEqual(await p3, at(300));
  now = 9500;
  assert.deepEqual(h.release('y'), { position: at(300), heldMs: 5000 - 1001 + 500 });
});

test('a TTL is capped: a forgotten hold never stalls sync for long', async () => {
  let now = 0;
  const h = new SyncHold(log, () => now);
  const p = h.request({ holdId: 'x', ttlMs: 86_400_000 });
  h.decide(state({ taken: at(100) }));
  h.reached(at(100), at(100));
  await p;
  now = MAX_HOLD_TTL_MS + 1;
  assert.equal(h.decide(state({ taken: at(100) })), 'go');
});

test('close ends the hold and refuses later requests', async () => {
  const h = new SyncHold(log);
  const p = h.request({ holdId: 'x', until: at(100) });
  h.close(new Error('unit stopped'));
  await assert.rejects(p, /unit stopped/);
  await assert.rejects(h.request({ holdId: 'x' }), /unit stopped/);
});

/**
 * The loop model: a stream of events (some skipped by the reader: other tables), read one by one, applied in
 * batches flushed at random; idle steps let the reader's stream position pass skipped events. A caller holds now,
 * then at random later positions (snapshot positions: any event end or skipped end at or after the hold), as
 * openViews does. Every answer H must satisfy: applied == { delivered events ending <= H } and nothing moves while held.
 */
test('simulation: every answered hold point is exactly the applied prefix', async () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = prng(seed);
    const ends: { end: number; skipped: boolean }[] = [];
    let pos = 4;
    for (let i = 0; i < 60; i++) {
      pos += 1 + Math.floor(rnd() * 50);
      ends.push({ end: pos, skipped: rnd() < 0.3 });
    }
    let now = 0;
    const h = new SyncHold(log, () => now);
    let i = 0; // next stream index
    let taken = at(4);
    let idle: BinlogPosition | undefined;
    let kept: number | undefined;
    const applied = new Set<number>();
    let pending: number[] = [];
    let writers = at(4);
    const flush = () => {
      for (const e of pending) applied.add(e);
      pending = [];
      writers = taken;
    };
    const check = (H: BinlogPosition) => {
      for (const e of ends) {
        if (e.skipped) continue;
        assert.equal(applied.has(e.end), e.end <= H.pos, `seed ${seed}: event ${e.end} vs hold ${H.pos}`);
      }
    };
    let answered: BinlogPosition | undefined;
    let asked: Promise<BinlogPosition> | undefined;
    const step = () => {
      now += 10;
      let ev = kept;
      kept = undefined;
      let sp: BinlogPosition | undefined;
      if (ev === undefined && !h.stationary) {
        while (i < ends.length && ends[i]!.skipped && rnd() < 0.8) i++; // the reader skips other tables' events
        if (i < ends.length && !ends[i]!.skipped && rnd() < 0.7) ev = i++;
        else sp = i > 0 ? at(ends[i - 1]!.end) : undefined; // idle: stream position past what was skipped
      }
      if (h.active) {
        const d = h.decide({
          taken,
          streamed: [taken, idle, sp].reduce<BinlogPosition>((m, p) => (p && comparePos(p, m) > 0 ? p : m), taken),
          writersMax: writers,
          barrier: false,
          nextEnd: ev === undefined ? undefined : at(ends[ev]!.end),
        });
        if (d !== 'go') {
          kept = ev;
          if (d !== 'keep') {
            flush();
            h.reached(d.stop, taken);
          }
          return;
        }
      }
      if (ev === undefined) {
        if (sp && (!idle || comparePos(sp, idle) > 0)) idle = sp;
        if (pending.length && rnd() < 0.5) flush();
        return;
      }
      taken = at(ends[ev]!.end);
      pending.push(ends[ev]!.end);
      if (rnd() < 0.3) flush();
    };
    // hold now, then three moves to later "snapshot" positions, then release.
    let holds = 0;
    for (let t = 0; t < 400 && holds < 4; t++) {
      if (!asked && t > 20) {
        const floor = answered;
        answered = undefined;
        const candidates = ends.map((e) => e.end).filter((e) => !floor || e >= floor.pos);
        const until = holds === 0 ? undefined : at(candidates[Math.floor(rnd() * Math.min(5, candidates.length))]!);
        asked = h.request({ holdId: 'sim', ...(until ? { until } : {}) });
        asked.then(
          (H) => {
            answered = H;
          },
          () => undefined,
        );
      }
      step();
      await Promise.resolve();
      await Promise.resolve();
      if (asked && answered && h.stationary) {
        check(answered);
        const before = applied.size;
        step();
        step();
        assert.equal(applied.size, before, `seed ${seed}: nothing moves while held`);
        holds++;
        asked = undefined;
      }
    }
    h.release('sim');
    assert.ok(holds >= 1, `seed ${seed}: at least the first hold was reached`);
  }
});
