/**
 * Published ports (`-p HOSTPORT:CTRPORT`): a TCP proxy listening on 127.0.0.1:HOSTPORT that
 * forwards each connection to the container's address. It runs in the process that waits for
 * the container (the supervisor, or the foreground agent), so it lives exactly as long as the
 * container and needs no iptables rules.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { PortSpec } from './run-options.js';

/** Running listeners; `close` stops them and drops open connections. */
export interface PortProxy {
  close(): Promise<void>;
}

/** Listens on every host port (all or none: a port in use closes the others and throws). */
export async function startPortProxy(ports: PortSpec[], containerAddress: string): Promise<PortProxy> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  };
  try {
    for (const port of ports) {
      servers.push(await listen(port, containerAddress, sockets));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { close };
}

function listen(port: PortSpec, containerAddress: string, sockets: Set<Socket>): Promise<Server> {
  const server = createServer((client) => forward(client, port.containerPort, containerAddress, sockets));
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be listened on: ${error.message}`;
      reject(new Error(`port 127.0.0.1:${port.hostPort} ${reason}`));
    });
    server.listen({ host: '127.0.0.1', port: port.hostPort }, () => resolve(server));
  });
}

function forward(client: Socket, port: number, host: string, sockets: Set<Socket>): void {
  const upstream = connect({ host, port });
  for (const socket of [client, upstream]) {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Either side failing (the container not listening yet, a reset) ends both: the client
    // sees a closed connection, as it would from a stopped server.
    socket.once('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  client.pipe(upstream);
  upstream.pipe(client);
}
