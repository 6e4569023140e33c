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

  /** toString()'s value until the next add() (it is asked for at every commit: sorting and joining each time was ~2 %
   * of a single-row catch-up). */
  private text: string | undefined;

  add(domain: number, server: number, seq: bigint | number | string): void {
    const cur = this.domains.get(domain);
    const n = BigInt(seq);
    // One domain, the usual case: the text is that domain's alone.
    if (this.domains.size === 1 && cur) {
      cur.server = server;
      cur.seq = n;
      this.text = `${domain}-${server}-${n}`;
      return;
    }
    this.domains.set(domain, { server, seq: n });
    this.text = undefined;
  }

  toString(): string {
    if (this.text === undefined)
      this.text = [...this.domains.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([d, v]) => `${d}-${v.server}-${v.seq}`)
        .join(',');
    return this.text;
  }
}
