import fs from 'node:fs';
import net from 'node:net';

// Why not simply listen(0): the kernel answers port 0 from the ephemeral range, the same range
// every outgoing connection (to PostgreSQL, Temporal, the simulator) and every other listen(0)
// draws its local port from. A port found free that way can be a client's local port a moment
// later, and the server handed it then fails with EADDRINUSE (CI saw METRICS_PORT taken so).
// Ports below the ephemeral range are only ever taken by someone asking for them by number.
const LOWEST = 20_000; // above the well-known services' ports (5432, 6379, 7233, 8080, …)

function ephemeralLow(): number | undefined {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : undefined;
  } catch {
    return undefined; // not Linux: fall back to the kernel's choice
  }
}

function listenOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

// Each process walks the range from its own starting point (from its pid), one port after the
// other: two processes (test files run side by side) hand out the same port only if their
// walks meet, and a port is never handed out twice by one process before the walk wraps.
let walked = 0;

/** A port nothing listens on right now, on 127.0.0.1 (for child servers and exporters). */
export async function freeLoopbackPort(): Promise<number> {
  const low = ephemeralLow();
  if (low !== undefined && low - LOWEST >= 1_000) {
    const span = low - LOWEST;
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await listenOn(LOWEST + ((process.pid * 7919 + walked++) % span));
      if (port !== undefined) return port;
    }
  }
  const port = await listenOn(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}
