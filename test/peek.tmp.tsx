import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../tui/dashboard/App.tsx';
import { fixedSource } from '../tui/dashboard/use-read-model.ts';
import { STATES } from '../test/unit/dashboard-fixtures.ts';
const [name = 'smallCluster', view = 'tasks', cols = '80', rows = '24', keys = ''] = process.argv.slice(2);
const r = render(<App source={fixedSource(STATES[name]!())} actions={{ can: { skipDdl: true, unlock: false }, run: async (a) => `done ${JSON.stringify(a)}` }} initial={{ view: view as any }} />);
Object.defineProperty(r.stdout, 'columns', { get: () => Number(cols) });
(r.stdout as any).rows = Number(rows);
r.stdout.emit('resize');
await new Promise((res) => setTimeout(res, 50));
for (const k of keys.split(',').filter(Boolean)) { r.stdin.write(k === 'ENTER' ? '\r' : k === 'ESC' ? '\x1b' : k === 'TAB' ? '\t' : k); await new Promise((res) => setTimeout(res, 50)); }
const f = r.lastFrame()!;
console.log(f);
console.log('lines', f.split('\n').length, 'maxw', Math.max(...f.split('\n').map((l) => [...l.replace(/\x1b\[[0-9;]*m/g, '')].length)));
r.unmount();
console.log('frames', r.frames.length, r.frames.map((f) => f.split('\n')[0]!.length));
