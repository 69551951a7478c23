import net from 'node:net';

/** A port nothing listens on right now, on 127.0.0.1 (for child servers and exporters). */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
