import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { select } from './queries.ts';
import type { SpanCondition } from './trace-conditions.ts';

/**
 * Searching messages: a trace matches when one of its spans holds the words in its input, output,
 * system instructions or name, as typed, in any letter case, also inside a longer word ("fund" finds
 * "Refunded"). The condition has two forms that select the same spans, row for row (checked on ASCII
 * and other letters, %, _, backslashes, one letter, several words):
 *
 * - positionCaseInsensitiveUTF8 reads the messages. For a short window it is the quicker: at 10M
 *   spans, one hour without a match 38 ms.
 * - ILIKE '%…%', the words' own wildcards escaped, is answered from the text indexes (syncTextIndexes):
 *   ClickHouse looks the words up in each part's token dictionary and reads the rows of the tokens
 *   that contain them, not the messages. That lookup costs about the same whatever the window (one
 *   hour without a match 212 ms), so it pays from about half a day: without a match 167 vs 175 ms
 *   over 24 hours, 136 vs 1,228 over 7 days, 350 over 30 (~6.7 s reading); a word in ~2,000 spans
 *   a day, its newest 102 traces: 146 vs 373 ms over 24 hours, 219 vs 2,230 over 7 days.
 *   Without the indexes (PARALLAX_TEXT_INDEXES=off, or a ClickHouse server older than 26.2) it reads
 *   the messages like the other, with the same results.
 *
 * Through the API at 10M spans, newest first (the walk reads its first hour's messages, then the rest
 * through the indexes), a word in no message: 24 hours 163-209 ms (252-315 before), 7 days ~300 ms
 * (1.9 s), 30 days 450-520 ms (6.6-6.9 s); a rare word's or a common one's list as before or quicker.
 *
 * Costs of the indexes: at 10M spans 88 B/span on disk (spans 305 before, 392 after; 303 -> 415 at
 * 1M), 91 s to build them for the stored spans; an INSERT of spans alone takes ~1.75x as long, which
 * the whole ingest path mostly hides (bench/collector-ingest.ts, spans only: 6,643 spans/s with the
 * indexes, 7,063 without, on a busy host).
 */
const COLUMNS = ['input_messages', 'output_messages', 'system_instructions', 'name'];

/** From this window on, a search reads the text indexes instead of the messages. */
export const INDEXED_SEARCH_FROM_MS = 12 * 3_600_000;

/** The parts of `words` the indexes hold as (parts of) tokens: runs between ASCII characters other than letters and digits. */
const TOKEN_RUN = /[^\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/g;

export function textCondition(words: string): SpanCondition {
  const params: Record<string, string> = { q: words, textPattern: likePattern(words) };
  // Words with a space or punctuation between them span tokens, and ClickHouse then reads every message
  // for the ILIKE: each run of the words must also be in the text, and each run alone is answered from
  // the index, so a phrase with a run found nowhere is settled there. At 10M spans, an order number no
  // message holds ("ORD-4471…") through the API: 7 days 2.2-2.7 s -> 0.43-0.49 s, 30 days ~0.6-0.7 s,
  // 24 hours 0.48-0.52 -> 0.30-0.38 s. A phrase made only of common words gains nothing: its rows are read
  // (in SQL over 7 days ~1.5-2 s either way; over 24 hours one such phrase went 205 -> 339 ms).
  const runs = words.match(TOKEN_RUN) ?? [];
  if (runs.length > 1) runs.forEach((run, i) => (params[`textRun${i}`] = likePattern(run)));
  const wide = (column: string) =>
    runs.length > 1 ? `(${runs.map((_, i) => `${column} ILIKE {textRun${i}:String}`).join(' AND ')} AND ${column} ILIKE {textPattern:String})` : `${column} ILIKE {textPattern:String}`;
  return {
    sql: COLUMNS.map((column) => `positionCaseInsensitiveUTF8(${column}, {q:String}) > 0`).join(' OR '),
    wide: COLUMNS.map(wide).join(' OR '),
    params,
  };
}

/** An ILIKE pattern for text containing `words`, their own %, _ and \ taken literally. */
function likePattern(words: string): string {
  return `%${words.replace(/[\\%_]/g, '\\$&')}%`;
}

/** ClickHouse took text indexes out of experimental in 26.2. */
const TEXT_INDEX_SINCE: [number, number] = [26, 2];

/**
 * Puts the text indexes on spans, or takes them off, as `wanted` says (PARALLAX_TEXT_INDEXES), at
 * every start: adding them builds them for the spans already stored (91 s at 10M spans), dropping
 * them removes their files. Either way search gives the same results; without them a wide window
 * reads the messages. A server older than 26.2 has no text indexes: it searches by reading.
 */
export async function syncTextIndexes(storage: Storage, wanted: boolean): Promise<void> {
  const db = quoteIdentifier(storage.database);
  const present = new Set(
    (
      await select<{ name: string }>(
        storage,
        `SELECT name FROM system.data_skipping_indices WHERE database = {database:String} AND table = 'spans' AND startsWith(name, 'idx_text_')`,
        { database: storage.database },
      )
    ).map((row) => row.name),
  );
  if (!wanted) {
    for (const index of present) await storage.client.command({ query: `ALTER TABLE ${db}.spans DROP INDEX IF EXISTS ${index}` });
    if (present.size) console.log('parallax collector: dropped the text indexes (PARALLAX_TEXT_INDEXES=off); message search reads the messages');
    return;
  }
  const missing = COLUMNS.filter((column) => !present.has(`idx_text_${column}`));
  if (!missing.length) return;
  const [{ version = '' } = {}] = await select<{ version: string }>(storage, 'SELECT version() AS version', {});
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < TEXT_INDEX_SINCE[0] || (major === TEXT_INDEX_SINCE[0] && minor < TEXT_INDEX_SINCE[1])) {
    console.log(`parallax collector: ClickHouse ${version} has no text indexes (26.2 and newer do); message search reads the messages`);
    return;
  }
  const [{ spans = 0 } = {}] = await select<{ spans: number }>(storage, 'SELECT count() AS spans FROM {db}.spans', {});
  if (spans > 0) console.log(`parallax collector: building text indexes for ${spans} stored spans (PARALLAX_TEXT_INDEXES=off skips them)`);
  // Tokens in lower case (ILIKE ignores case); on all four columns, as a search ORs them and a column
  // without an index would be read whole.
  try {
    for (const column of missing) {
      const index = `idx_text_${column}`;
      await storage.client.command({
        query: `ALTER TABLE ${db}.spans ADD INDEX IF NOT EXISTS ${index} ${column} TYPE text(tokenizer = splitByNonAlpha, preprocessor = lower(${column}))`,
      });
      await storage.client.command({ query: `ALTER TABLE ${db}.spans MATERIALIZE INDEX ${index} SETTINGS mutations_sync = 2` });
    }
  } catch (error) {
    // A server may refuse them (a setting that disables them, missing grants) or time out building them
    // (a server keeps building after the client gave up). Search is only slower without them (parts
    // without index files are read), so the collector starts and says why.
    console.error(
      `parallax collector: could not add the text indexes, message search reads the messages (slower over days): ${(error as Error).message.split('\n')[0]}. ` +
        'Set PARALLAX_TEXT_INDEXES=off to stop trying at start.',
    );
  }
}
