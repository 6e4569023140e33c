import { Writable } from 'node:stream';

/** A writable that keeps what was written, for a command's stdout/stderr in tests. */
export function sink(): { stream: Writable; text: () => string } {
  let buf = '';
  return {
    stream: new Writable({
      write(c, _e, cb) {
        buf += String(c);
        cb();
      },
    }),
    text: () => buf,
  };
}
