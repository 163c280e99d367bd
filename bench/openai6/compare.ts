// Side by side on openai@6 (the newest the published instrumentation patches): the raw client, the client under
// @opentelemetry/instrumentation-openai 0.22, and wrap() from @parallax/sdk, in one process and one run.
// Same in-process fetch as ../sdk-overhead.ts (it answers after a macrotask, as a socket does), same span pipeline
// (TracerProvider + BatchSpanProcessor, spans dropped by the exporter), same timing: one idle event-loop turn between
// calls, outside the timed window, where work a tracer defers past the caller's result runs; the CPU column counts
// it. Run `npm install` in this folder first; ../sdk-overhead.ts runs this when it can.
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { init, shutdown, wrap } from '../../sdk/src/index.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 30_000);
const BLOCK = 200;

const dropped = { count: 0 };
init({
  exporter: {
    export(spans, done) {
      dropped.count += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  },
});

// The instrumentation patches `openai` when it is required, so enable it first, then load openai as CommonJS.
const instrumentation = new OpenAIInstrumentation();
instrumentation.enable();
const require = createRequire(import.meta.url);
const { OpenAI } = require('openai') as typeof import('openai');
const version = (require('openai/version') as { VERSION: string }).VERSION;

const completionBody = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_767_225_600,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The capital of France is Paris. It has been the capital since 508 AD.', refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 },
});
/** One turn of the event loop: what a socket's response waits for at the least. */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));
const fakeFetch = async () => {
  await macrotask();
  return new Response(completionBody, { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': 'req_bench' } });
};
const options = { apiKey: 'bench', baseURL: 'https://api.openai.com/v1', fetch: fakeFetch as unknown as typeof fetch, maxRetries: 0 };

type Client = InstanceType<typeof OpenAI>;
const patched = OpenAI.Chat.Completions.prototype.create;
const original = (patched as unknown as { __original?: typeof patched }).__original;
if (!original) throw new Error('instrumentation-openai did not patch openai; is openai < 7 installed here?');

/** A client whose chat.completions.create is the unpatched method (an own property hides the prototype's). */
function unpatched(): Client {
  const client = new OpenAI(options);
  Object.defineProperty(client.chat.completions, 'create', { value: original, configurable: true, writable: true });
  return client;
}

const clients: Array<[string, Client]> = [
  ['raw openai@' + version, unpatched()],
  ['instrumentation-openai', new OpenAI(options)],
  ['wrap(), content on', wrap(unpatched())],
  ['wrap(), content off', wrap(unpatched(), { captureContent: false })],
];

const request = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'You are a helpful geography assistant. Answer in one or two sentences.' },
    { role: 'user' as const, content: 'What is the capital of France, and since when?' },
  ],
  temperature: 0.2,
  max_tokens: 200,
};

for (let i = 0; i < 2000; i++) {
  for (const [, client] of clients) {
    await client.chat.completions.create(request);
    await macrotask();
  }
}
const load = loadavg();

const wall = clients.map(() => [] as number[]);
const cpu = clients.map(() => [] as number[]);
for (let done = 0; done < CALLS; done += BLOCK) {
  for (let c = 0; c < clients.length; c++) {
    const client = clients[c]![1];
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) {
      const start = performance.now();
      await client.chat.completions.create(request);
      wall[c]!.push((performance.now() - start) * 1000);
      await macrotask();
    }
    const used = process.cpuUsage(cpuStart);
    cpu[c]!.push((used.user + used.system) / BLOCK);
  }
}
for (const list of [...wall, ...cpu]) list.sort((a, b) => a - b);
const pct = (list: number[], p: number) => list[Math.min(list.length - 1, Math.floor((list.length - 1) * p))]!;

const header = ['', 'wall p50', 'wall p99', 'CPU/call', 'added p50', 'added CPU'];
const rows = clients.map(([name], c) => [
  name,
  `${pct(wall[c]!, 0.5).toFixed(1)} µs`,
  `${pct(wall[c]!, 0.99).toFixed(1)} µs`,
  `${pct(cpu[c]!, 0.5).toFixed(1)} µs`,
  `${(pct(wall[c]!, 0.5) - pct(wall[0]!, 0.5)).toFixed(1)} µs`,
  `${(pct(cpu[c]!, 0.5) - pct(cpu[0]!, 0.5)).toFixed(1)} µs`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
console.log(`\nnon-streaming chat call on openai@${version}, ${CALLS} calls per client (instrumentation-openai records no content by default)`);
console.log(`load average at start ${load.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
console.log(`spans exported (dropped): ${dropped.count}`);
await shutdown();
