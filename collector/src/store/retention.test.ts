import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import { generateKey } from './projects.ts';
import { applyRetention } from './retention.ts';

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

describe('retention', () => {
  it("deletes spans past a project's retention and leaves other projects alone", async () => {
    const short = await collector.projects.createProject('Short memory');
    await collector.projects.updateProject(short.id, { retentionDays: 7 });
    const key = generateKey();
    await collector.projects.addKey(short.id, key, { name: 'k', scope: 'full' });
    const tenDaysAgo = Date.now() - 10 * 86_400_000;
    for (const k of [key, collector.apiKey]) {
      await exportThroughOtlp(collector.url, k, (tracer) => {
        tracer.startSpan('old', { startTime: tenDaysAgo }).end(tenDaysAgo + 5);
        tracer.startSpan('recent').end();
      });
    }
    expect(await collector.storedSpans(short.id)).toBe(2);

    const results = await applyRetention(collector.storage, collector.projects);
    expect(results).toEqual([{ projectId: short.id, deletedSpans: 1 }]);
    expect(await collector.storedSpans(short.id)).toBe(1);
    expect(await collector.storedSpans('default')).toBe(2);
    expect(await applyRetention(collector.storage, collector.projects)).toEqual([]);
  });
});
