// Text of generated GenAI calls: system prompts, user turns, answers, tool calls and results, in the
// GenAI conventions' message schema (v1.41). Words come from a fixed vocabulary with a skewed
// frequency, so a full-text search for a common word hits many spans, a rare word few, and a word
// outside the vocabulary none.
import { Random } from './random.ts';

const COMMON = `the a to of and in for is on that with your you it this be we can are as from at by or
please order account refund payment invoice customer support issue error request update delivery
shipping subscription plan billing password login email address product price discount return
warranty ticket status check help need want would could should will not have has was were did
does data report summary document contract policy agent team service api endpoint deploy build
release version config database query latency timeout cluster region user session message reply
question answer review code function test bug fix change feature branch merge pipeline log trace
metric alert dashboard cost budget forecast revenue quarter sales lead pipeline meeting schedule
calendar note task project deadline priority owner file upload download image table chart number
date time today tomorrow week month year yes no thanks hello hi sure right now also just more
than about into after before when where which what how why who all any each some other new first
last next good great bad wrong correct same different possible available current previous`
  .split(/\s+/)
  .filter(Boolean);

// Domain words that are real but uncommon in this traffic: searches for them match a small share.
export const RARE_WORDS = `kubernetes terraform reconciliation chargeback arbitration escrow amortization
idempotency backpressure sharding tokenizer embeddings quarantine subpoena tariff customs
depreciation underwriting actuarial hedging liquidity collateral remittance escalation
telemetry observability failover`
  .split(/\s+/)
  .filter(Boolean);

/** Never generated: a full-text search for it must find nothing. */
export const ABSENT_WORD = 'zanzibarite';

const SENTENCE_POOL_SIZE = 4096;

export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export const TOOLS: readonly ToolSpec[] = [
  tool('get_order', 'Look up an order by its id and return status, items and delivery dates.', { order_id: 'string' }),
  tool('issue_refund', 'Refund an order fully or partly; needs a reason.', { order_id: 'string', amount: 'number', reason: 'string' }),
  tool('search_docs', 'Full-text search over the product documentation.', { query: 'string', limit: 'integer' }),
  tool('get_customer', 'Fetch a customer record by email or id.', { customer_id: 'string' }),
  tool('run_sql', 'Run a read-only SQL query on the analytics warehouse.', { sql: 'string' }),
  tool('create_ticket', 'Open a support ticket with a priority.', { title: 'string', priority: 'string', body: 'string' }),
  tool('get_weather', 'Current weather for a city.', { city: 'string' }),
  tool('read_file', 'Read a file from the repository at a revision.', { path: 'string', revision: 'string' }),
];

function tool(name: string, description: string, fields: Record<string, string>): ToolSpec {
  return {
    name,
    description,
    parameters: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(fields).map(([k, type]) => [k, { type }])),
      required: Object.keys(fields),
    },
  };
}

/**
 * Precomputed sentences (deterministic from the seed) that messages are assembled from: building
 * gigabytes of text word by word would make the generator, not the collector, the bottleneck.
 */
export class Corpus {
  readonly sentences: string[];
  readonly systemPrompts: string[];

  constructor(seed: number) {
    const random = new Random(seed ^ 0x5eed);
    this.sentences = [];
    for (let i = 0; i < SENTENCE_POOL_SIZE; i++) this.sentences.push(sentence(random));
    this.systemPrompts = [];
    for (let i = 0; i < 12; i++) {
      const target = random.int(400, 2000);
      let text = `You are ${random.pick(['a support', 'a billing', 'a coding', 'a research', 'a sales'])} assistant for Acme.`;
      while (text.length < target) text += ' ' + random.pick(this.sentences);
      this.systemPrompts.push(text);
    }
  }

  /** Roughly `chars` characters of prose, optionally naming an order id. */
  text(random: Random, chars: number): string {
    let out = random.pick(this.sentences);
    while (out.length < chars) out += ' ' + this.sentences[random.int(0, SENTENCE_POOL_SIZE - 1)];
    return out;
  }
}

function sentence(random: Random): string {
  const words: string[] = [];
  const length = random.int(6, 18);
  for (let i = 0; i < length; i++) {
    // About one sentence in 60 carries a rare word; the rest is the common vocabulary, Zipf-skewed.
    words.push(i === 3 && random.chance(1 / 60) ? random.pick(RARE_WORDS) : COMMON[random.zipf(COMMON.length, 1.05)]!);
  }
  const first = words[0]!;
  words[0] = first[0]!.toUpperCase() + first.slice(1);
  return words.join(' ') + random.pick(['.', '.', '.', '?', '!']);
}

/** An id a customer would paste into a chat: unique enough for a "needle" full-text search. */
export function orderId(random: Random): string {
  return `ORD-${random.int(1_000_000, 9_999_999)}`;
}
