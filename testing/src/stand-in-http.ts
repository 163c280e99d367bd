// HTTP plumbing shared by the provider stand-ins (OpenAI, Anthropic, Gemini); each keeps only its own
// wire format. Requests are read whole and their JSON parsed; delays and open connections (a stalled
// stream included) are cut when the stand-in closes, so a test never waits on one.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as a stand-in received it. */
export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body, or the raw text when it is not JSON (a test may want to see it). */
  body: unknown;
}

export interface StandInHttp {
  origin: string;
  /** Waits `ms`; pending waits are dropped on close. */
  sleep(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves on 127.0.0.1 with a free port. `handle` answers each request; when it throws, `fail` answers
 * 500 in the provider's error shape (or the connection is dropped when the answer had begun).
 */
export async function startStandInHttp(
  handle: (request: ReceivedRequest, req: IncomingMessage, res: ServerResponse) => Promise<void>,
  fail: (res: ServerResponse, message: string) => void,
): Promise<StandInHttp> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    void receive(req)
      .then((request) => handle(request, req, res))
      .catch((error: unknown) => {
        if (!res.headersSent) fail(res, `stand-in failure: ${String(error)}`);
        else res.destroy();
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function receive(req: IncomingMessage): Promise<ReceivedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // kept as text
  }
  return { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body };
}
