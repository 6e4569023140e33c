/**
 * GTID set coverage for seeking in the relay. MariaDB positions (`domain-server-seq,…`): `a` covers `b` when, for
 * every domain of `b`, `a` has reached at least `b`'s sequence. MySQL sets (`uuid:1-5:7,…`): `a` covers `b` when
 * every interval of `b` lies inside `a`'s intervals of the same uuid.
 */
export function gtidCovers(a: string, b: string): boolean {
  if (b.includes(':') || a.includes(':')) return mysqlCovers(parseMysql(a), parseMysql(b));
  const seqs = new Map<string, bigint>();
  for (const part of a
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [d, , q] = part.split('-');
    if (d !== undefined && q !== undefined) seqs.set(d, BigInt(q));
  }
  for (const part of b
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [d, , q] = part.split('-');
    if (d === undefined || q === undefined) continue;
    const have = seqs.get(d);
    if (have === undefined || have < BigInt(q)) return false;
  }
  return true;
}

type MysqlSet = Map<string, [bigint, bigint][]>;

function parseMysql(s: string): MysqlSet {
  const out: MysqlSet = new Map();
  for (const part of s.replace(/\s/g, '').split(',').filter(Boolean)) {
    const [uuid, ...ivs] = part.split(':');
    if (!uuid) continue;
    const list = out.get(uuid.toLowerCase()) ?? [];
    for (const iv of ivs) {
      const [lo, hi] = iv.split('-');
      if (lo) list.push([BigInt(lo), BigInt(hi ?? lo)]);
    }
    out.set(uuid.toLowerCase(), list);
  }
  return out;
}

function mysqlCovers(a: MysqlSet, b: MysqlSet): boolean {
  for (const [uuid, ivs] of b) {
    const have = a.get(uuid) ?? [];
    for (const [lo, hi] of ivs) if (!have.some(([l, h]) => l <= lo && hi <= h)) return false;
  }
  return true;
}
