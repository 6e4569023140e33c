/** pino-roll 4 ships no types: the part of its API agent/log.ts uses (see its README). */
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  /** The sonic-boom stream pino-roll returns (sonic-boom is its dependency, not ours). */
  export interface RollStream extends EventEmitter {
    /** The open file's descriptor; -1 while it is being opened. */
    readonly fd: number;
    /** The current file's path. */
    readonly file: string;
    write(line: string): boolean;
    end(): void;
  }

  export interface PinoRollOptions {
    file: string | (() => string);
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    symlink?: boolean;
    limit?: { count: number; removeOtherLogFiles?: boolean };
    dateFormat?: string;
    /** sonic-boom options */
    mode?: number;
    sync?: boolean;
    mkdir?: boolean;
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<RollStream>;
}
