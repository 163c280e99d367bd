import { describe, expect, it } from 'vitest';
import type { OtlpSpan } from '../otlp/decode.ts';
import { clickhouseTime, toSpanRows } from './normalize.ts';

function span(overrides: Partial<OtlpSpan>): OtlpSpan {
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: '',
    name: 'work',
    kind: 1,
    startTimeUnixNano: 1764000000000000000n,
    endTimeUnixNano: 1764000000000000000n,
    attributes: {},
    events: [],
    status: { code: 0, message: '' },
    ...overrides,
  };
}

describe('clickhouseTime', () => {
  it('writes every nanosecond, past what a number holds, at day, leap-day and year boundaries', () => {
    expect(clickhouseTime(1764000000123456789n)).toBe('2025-11-24 16:00:00.123456789');
    expect(clickhouseTime(0n)).toBe('1970-01-01 00:00:00.000000000');
    expect(clickhouseTime(1709251199999999999n)).toBe('2024-02-29 23:59:59.999999999');
    expect(clickhouseTime(1709251200000000001n)).toBe('2024-03-01 00:00:00.000000001');
    expect(clickhouseTime(1767225599999999999n)).toBe('2025-12-31 23:59:59.999999999');
    expect(clickhouseTime(10413792000000000000n)).toBe('2300-01-01 00:00:00.000000000');
  });
});

describe('toSpanRows', () => {
  it('stores start and end with their nanoseconds and the duration in milliseconds', () => {
    const [row] = toSpanRows('p', [{ resource: {}, scopeName: 's', spans: [span({ startTimeUnixNano: 1764000000123456789n, endTimeUnixNano: 1764000001623456790n })] }]);
    expect(row).toMatchObject({ start_time: '2025-11-24 16:00:00.123456789', end_time: '2025-11-24 16:00:01.623456790', duration_ms: 1500.000001 });
  });

  it('keeps every attribute value as the text JSON would write it', () => {
    const attributes = { text: 'a "b"', int: 42, float: 0.1, negative: -0, big: '9007199254740993', yes: true, no: false, nan: NaN, list: ['a', 1, true], map: { k: [1, { n: null }] }, none: null };
    const [row] = toSpanRows('p', [{ resource: { 'service.name': 'svc', replicas: 3 }, scopeName: 's', spans: [span({ attributes })] }]);
    expect(row!.attributes).toEqual({
      text: 'a "b"',
      int: '42',
      float: '0.1',
      negative: '0',
      big: '9007199254740993',
      yes: 'true',
      no: 'false',
      nan: 'null',
      list: '["a",1,true]',
      map: '{"k":[1,{"n":null}]}',
    });
    expect(row!.resource_attributes).toEqual({ 'service.name': 'svc', replicas: '3' });
  });
});
