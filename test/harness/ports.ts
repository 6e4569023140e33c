/**
 * Free loopback TCP ports for test servers.
 *
 * The OS picks a free port (bind 127.0.0.1:0); we remember every port handed out so one process never gets the
 * same port twice, even after the server using it has stopped (a restarted server keeps its port, and a port
 * handed back to another server could collide with it). Ports of services this machine runs for other purposes
 * (MariaDB 3306, NATS 4222 and their usual companions) are never returned.
 */
import { createServer } from 'node:net';

const RESERVED = new Set([3306, 4222, 6222, 8222, 33060]);
const handedOut = new Set<number>();

function bindEphemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago and was not returned before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await bindEphemeral();
    if (RESERVED.has(port) || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('freePort: no new free port after 100 attempts');
}
