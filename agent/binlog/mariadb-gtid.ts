/**
 * MariaDB GTID position (domain-server-seq per domain), folded transaction by transaction, so that every
 * checkpoint carries the GTID state matching its file/pos.
 */
export class MariaGtidState {
  private readonly domains = new Map<number, { server: number; seq: bigint }>();

  constructor(initial = '') {
    for (const part of initial
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [d, s, q] = part.split('-');
      if (d !== undefined && s !== undefined && q !== undefined)
        this.domains.set(Number(d), { server: Number(s), seq: BigInt(q) });
    }
  }

  add(domain: number, server: number, seq: bigint | number | string): void {
    this.domains.set(domain, { server, seq: BigInt(seq) });
  }

  toString(): string {
    return [...this.domains.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([d, v]) => `${d}-${v.server}-${v.seq}`)
      .join(',');
  }
}
