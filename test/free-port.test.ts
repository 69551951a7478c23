import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { freeLoopbackPort } from '../src/shared/freePort';

// Ports handed to child servers (the dev server, the simulator, metrics) come from below the
// kernel's ephemeral range, where no client connection takes its local port (CI once saw
// METRICS_PORT taken between the pick and the bind).

describe('freeLoopbackPort', () => {
  it('hands out distinct ports below the ephemeral range, each free to listen on', async () => {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freeLoopbackPort());
    assert.equal(new Set(ports).size, ports.length, `a port handed out twice: ${ports.join(', ')}`);
    for (const port of ports) {
      assert.ok(port >= 20_000 && port < low, `${port} is not in [20000, ${low})`);
    }
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports[0], '127.0.0.1', resolve));
    await new Promise((r) => server.close(r));
  });
});
