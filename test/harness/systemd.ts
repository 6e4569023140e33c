/**
 * Reading a systemd unit and an EnvironmentFile the way systemd does, for the tests that start dm-agent as
 * agent/dm-agent.service would (the subset the unit and deploy/dm-agent.default use).
 */

/** `[Section]` → key → values in order (a key may repeat, e.g. Environment=). Comments (# ;) and blanks skipped. */
export function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = new Map();
      out.set(sec[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !section) throw new Error(`not a unit line: ${raw}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** One setting of a unit's section; throws when missing, so a test names what the unit lacks. */
export function unitValue(unit: Map<string, Map<string, string[]>>, section: string, key: string): string {
  const v = unit.get(section)?.get(key);
  if (!v?.length) throw new Error(`unit has no ${key}= in [${section}]`);
  return v[v.length - 1]!;
}

/**
 * An EnvironmentFile: KEY=VALUE lines, `#`/`;` comments, optional single or double quotes around the value
 * (systemd strips them), no shell expansion and no `export`.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an EnvironmentFile line: ${raw}`);
    let v = m[2]!;
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    env[m[1]!] = v;
  }
  return env;
}

/** ExecStart's command line split as systemd does for the simple (unquoted, no variables) form the unit uses. */
export function splitExecStart(value: string): string[] {
  if (/["'$\\]/.test(value)) throw new Error(`ExecStart with quotes or variables is not handled here: ${value}`);
  return value
    .replace(/^[-@:+!]+/, '')
    .split(/\s+/)
    .filter(Boolean);
}
