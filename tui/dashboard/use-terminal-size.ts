import { useEffect, useState } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  columns: number;
  rows: number;
}

/** The smallest terminal the dashboard is laid out for (DBAs over SSH); smaller ones get the same, cut off. */
export const MIN_SIZE: TerminalSize = { columns: 80, rows: 24 };

function read(stdout: NodeJS.WriteStream): TerminalSize {
  return {
    columns: Math.max(40, stdout.columns || MIN_SIZE.columns),
    rows: Math.max(12, stdout.rows || MIN_SIZE.rows),
  };
}

/** The terminal's size, updated on resize (SIGWINCH reaches Node as a 'resize' event on stdout). */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const [size, setSize] = useState(() => read(stdout));
  useEffect(() => {
    const onResize = () => setSize(read(stdout));
    stdout.on('resize', onResize);
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}
