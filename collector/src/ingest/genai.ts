import type { Attributes, AttributeValue } from '../otlp/decode.ts';

/** What a GenAI span contributes beyond a plain span: the row model's first-class columns. */
export interface GenAIFields {
  operation: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  finishReasons: string[];
  ttftMs: number | null;
  /** Conventions' message JSON, as strings ('' when absent). */
  inputMessages: string;
  outputMessages: string;
  systemInstructions: string;
  toolDefinitions: string;
}

/**
 * Reads the OpenTelemetry GenAI semantic conventions (v1.41 names, plus the renamed and older
 * names still emitted in the wild). Returns null for spans that are not GenAI calls.
 */
export function extractGenAI(attributes: Attributes): GenAIFields | null {
  const operation = str(attributes['gen_ai.operation.name']);
  const provider = str(attributes['gen_ai.provider.name']) || str(attributes['gen_ai.system']);
  const requestModel = str(attributes['gen_ai.request.model']);
  const responseModel = str(attributes['gen_ai.response.model']);
  if (!operation && !provider && !requestModel && !responseModel) return null;

  const cacheReadTokens = num(attributes['gen_ai.usage.cache_read.input_tokens']);
  const cacheWriteTokens =
    num(attributes['gen_ai.usage.cache_creation.input_tokens']) || num(attributes['gen_ai.usage.cache_write.input_tokens']);
  const firstChunkSeconds = attributes['gen_ai.response.time_to_first_chunk'];
  return {
    operation: operation || 'chat',
    provider,
    requestModel,
    responseModel,
    inputTokens: num(attributes['gen_ai.usage.input_tokens']) || num(attributes['gen_ai.usage.prompt_tokens']),
    outputTokens: num(attributes['gen_ai.usage.output_tokens']) || num(attributes['gen_ai.usage.completion_tokens']),
    cacheReadTokens,
    cacheWriteTokens,
    reasoningTokens: num(attributes['gen_ai.usage.reasoning.output_tokens']),
    finishReasons: strings(attributes['gen_ai.response.finish_reasons']),
    ttftMs: typeof firstChunkSeconds === 'number' ? firstChunkSeconds * 1000 : null,
    inputMessages: json(attributes['gen_ai.input.messages']),
    outputMessages: json(attributes['gen_ai.output.messages']),
    systemInstructions: json(attributes['gen_ai.system_instructions']),
    toolDefinitions: json(attributes['gen_ai.tool.definitions']),
  };
}

function str(value: AttributeValue | undefined): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function num(value: AttributeValue | undefined): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

function strings(value: AttributeValue | undefined): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string' && value) return [value];
  return [];
}

/** The conventions carry messages as JSON strings; some exporters send structured values. */
function json(value: AttributeValue | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
