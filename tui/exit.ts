/** Exit codes (docs/commands.md): stable, scripts rely on them. A module of its own: dmctl's start imports nothing else. */
export const Exit = { ok: 0, failed: 1, usage: 2, unreachable: 3, waitTimeout: 4 } as const;
