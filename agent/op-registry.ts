import { type Coord, type Op, Subjects } from '../src/coord/index.ts';

export type OpName = (typeof Op)[keyof typeof Op];

/** One request/reply operation an agent serves: its name, who it is addressed to, and its handler. */
export interface OpHandler {
  op: OpName;
  /** `any`: one agent of the cluster answers (a queue group); `agent`: sent to this agent by name. */
  to: 'any' | 'agent';
  /** Payload in, result out; a thrown DmError is the error reply (Coord.subscribe). */
  handle(payload: unknown): Promise<unknown>;
}

/**
 * The agent's one registry of operations (name → handler, as gh-ost's command server has one): every operation dmctl
 * can ask an agent for is listed where the agent builds this list (agent.ts), and served here. Returns the stop
 * function.
 */
export function serveOps(coord: Coord, agent: string, handlers: OpHandler[]): () => void {
  const seen = new Set<OpName>();
  for (const h of handlers) {
    if (seen.has(h.op)) throw new Error(`operation ${h.op} registered twice`);
    seen.add(h.op);
  }
  const stops = handlers.map((h) =>
    h.to === 'any'
      ? coord.subscribe(Subjects.anyOp(coord.cluster, h.op), (p) => h.handle(p), 'agents')
      : coord.subscribe(Subjects.agentOp(coord.cluster, agent, h.op), (p) => h.handle(p)),
  );
  return () => {
    for (const stop of stops) stop();
  };
}
