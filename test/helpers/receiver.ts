import http from 'node:http';
import type net from 'node:net';
import { waitFor } from './wait';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
}

/** What the receiver answers a request with; 'hang' never answers. */
export type Answer = number | 'hang';

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Requests to `path` get these answers in turn, then 200. */
  answers: Map<string, Answer[]>;
  until(n: number, path?: string, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A real HTTP server on loopback that records every callback it gets. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const answers = new Map<string, Answer[]>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body });
      const answer = answers.get(path)?.shift() ?? 200;
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    answers,
    async until(n, path, timeoutMs = 120_000) {
      const matching = () => received.filter((r) => path === undefined || r.path === path);
      await waitFor(() => `${n} callbacks to ${path ?? 'any path'}: the receiver got ${matching().length} within ${timeoutMs} ms`, async () => matching().length >= n, timeoutMs, 50);
      return matching();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
