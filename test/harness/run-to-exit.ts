import { spawn } from 'node:child_process';

export interface ExitResult {
  /** The exit code; -1 when a signal ended the process. */
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to the end of its output (ms). */
  ms: number;
}

export interface RunToExitOptions {
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** SIGKILL and reject after this long (default 60 s): a hung command fails its test instead of hanging it. */
  timeoutMs?: number;
}

/**
 * Runs `cmd ARGS` to its exit, stdin closed, collecting stdout and stderr; resolves whatever the exit code (callers
 * decide what a failure is) once both streams closed, so no trailing output is lost. Used by the dmctl helper of the
 * tests (tsdm.ts) and the CLI benchmark (bench/cli.ts).
 */
export function runToExit(cmd: string, args: string[], opts: RunToExitOptions = {}): Promise<ExitResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const c = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => {
      stdout += d;
    });
    c.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      rej(new Error(`${[cmd, ...args].join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    c.on('error', (err) => {
      clearTimeout(t);
      rej(err);
    });
    c.on('close', (code) => {
      clearTimeout(t);
      res({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}
