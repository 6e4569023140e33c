import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../tui/dashboard/App.tsx';
import { fixedSource } from '../tui/dashboard/use-read-model.ts';
import { STATES } from './unit/dashboard-fixtures.ts';
const [name = 'smallCluster', view = 'tasks', cols = '80', rows = '24', keys = ''] = process.argv.slice(2);
const size = { columns: Number(cols), rows: Number(rows) };
const probe = render(<></>);
const proto = Object.getPrototypeOf(probe.stdout);
probe.unmount();
Object.defineProperty(proto, 'columns', { get: () => size.columns, configurable: true });
Object.defineProperty(proto, 'rows', { get: () => size.rows, configurable: true });
const r = render(<App source={fixedSource(STATES[name]!())} actions={{ can: { skipDdl: true, unlock: false }, run: async (a) => `done ${JSON.stringify(a)}` }} initial={{ view: view as any }} />);
await new Promise((res) => setTimeout(res, 30));
for (const k of keys.split(',').filter(Boolean)) { r.stdin.write(k === 'ENTER' ? '\r' : k === 'ESC' ? '\x1b' : k === 'TAB' ? '\t' : k === 'DOWN' ? '\x1b[B' : k); await new Promise((res) => setTimeout(res, 50)); }
const f = r.lastFrame()!;
console.log(f.replace(/\x1b\[[0-9;]*m/g, ''));
console.log('lines', f.split('\n').length, 'maxw', Math.max(...f.split('\n').map((l) => [...l.replace(/\x1b\[[0-9;]*m/g, '')].length)), 'frames', r.frames.length);
r.unmount();
