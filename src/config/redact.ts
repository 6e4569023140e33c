/**
 * Secrets out of everything a human or a log sees (DESIGN §7b): logs, dm_status, `--json`, the dashboard.
 * redact() is applied at those edges, so configs can carry plain passwords in memory.
 */

export const REDACTED = '******';

/** password, passwd, token, secret in any case and spelling: `natsPassword`, `nats-token`, `SSL_SECRET`. */
const SECRET_KEY = /(password|passwd|token|secret)/i;

/** scheme://user:pass@host -> scheme://host. Handles comma-separated lists (NATS server lists). */
export function redactUrl(url: string): string {
  return url.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s,?#]*@/gi, '$1');
}

/**
 * A deep copy of `value` where every secret-named field holds REDACTED and every URL string has its
 * credentials stripped. Plain objects and arrays are copied; other objects (Date, Buffer, class instances)
 * are kept by reference since they have no secret-named fields to hide. Cycles are preserved.
 */
export function redact<T>(value: T): T {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.includes('://') ? redactUrl(v) : v;
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return seen.get(v);
    if (Array.isArray(v)) {
      const arr: unknown[] = [];
      seen.set(v, arr);
      for (const item of v) arr.push(walk(item));
      return arr;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, item] of Object.entries(v)) {
      const hide = SECRET_KEY.test(k) && item !== undefined && item !== null && item !== '';
      Object.defineProperty(out, k, {
        value: hide ? REDACTED : walk(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return walk(value) as T;
}
