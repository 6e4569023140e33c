/** Samples a process's resident set (VmRSS in /proc/<pid>/status) to report its peak over a window. */
import { readFileSync } from 'node:fs';

export function rssOf(pid: number | undefined): { rss: number; hwm: number } | undefined {
  if (!pid) return undefined;
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peakBytes = 0;

  constructor(private readonly pid: () => number | undefined) {}

  /** Starts a new window (the peak starts from the current RSS). */
  start(everyMs = 100): void {
    this.stop();
    this.peakBytes = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): number {
    const r = rssOf(this.pid())?.rss ?? 0;
    if (r > this.peakBytes) this.peakBytes = r;
    return r;
  }

  /** Ends the window (one last sample) and returns its peak in bytes. */
  stop(): number {
    if (this.timer) {
      this.sample();
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return this.peakBytes;
  }

  get peak(): number {
    return this.peakBytes;
  }
}
