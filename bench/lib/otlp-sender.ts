// Child process: plays several OTLP/HTTP exporters sending pre-serialized protobuf requests, so the
// collector under test does not share its event loop with the clients. Reads the bodies from a
// file of [u32 length][bytes] records, sends them with `concurrency` requests in flight, retries
// as the OTLP specification says (429/502/503/504, honouring Retry-After), and prints one JSON
// line with the timings and its own CPU time.
//
//   node lib/otlp-sender.ts BODIES_FILE URL API_KEY CONCURRENCY
import { readFileSync } from 'node:fs';

const [file, url, apiKey, concurrencyText] = process.argv.slice(2);
if (!file || !url || !apiKey || !concurrencyText) {
  throw new Error('usage: node lib/otlp-sender.ts BODIES_FILE URL API_KEY CONCURRENCY');
}
const data = readFileSync(file);
const bodies: Uint8Array[] = [];
for (let offset = 0; offset < data.length; ) {
  const length = data.readUInt32LE(offset);
  bodies.push(data.subarray(offset + 4, offset + 4 + length));
  offset += 4 + length;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const latencies: number[] = [];
let retries = 0;
let next = 0;
const statuses: Record<string, number> = {};

// Wait for the parent's go, so process start-up is not in the measurement.
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const started = performance.now();
const cpuBefore = process.cpuUsage();
await Promise.all(Array.from({ length: Number(concurrencyText) }, () => exporter()));
const seconds = (performance.now() - started) / 1000;
// The exporters share the machine's cores with the collector: their CPU time is reported too.
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(JSON.stringify({ requests: bodies.length, seconds, cpuSeconds, retries, statuses, latencies }) + '\n');
process.exit(0);

async function exporter(): Promise<void> {
  while (next < bodies.length) {
    const body = bodies[next++]!;
    for (let attempt = 0; ; attempt++) {
      const t = performance.now();
      const response = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${apiKey}` },
        body,
      });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === 200) {
        latencies.push(performance.now() - t);
        break;
      }
      if (!RETRYABLE.has(response.status) || attempt >= 5) {
        throw new Error(`export failed with HTTP ${response.status} after ${attempt + 1} attempts`);
      }
      retries++;
      const wait = Number(response.headers.get('retry-after') ?? '1');
      await new Promise((r) => setTimeout(r, Math.min(wait, 5) * 1000));
    }
  }
}
