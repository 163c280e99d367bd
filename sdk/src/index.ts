// @parallax/sdk: trace LLM calls as OpenTelemetry GenAI spans.
//
//   import { init, wrap } from '@parallax/sdk';
//   init();                                   // once, at start-up
//   const openai = wrap(new OpenAI());        // same client, now traced
export { init, flush, shutdown, type InitOptions, type InitResult } from './init.ts';
export { wrap, type WrapOptions } from './wrap.ts';
export { withContext, traced, getContext, type ParallaxContext, type PromptRef, type TracedOptions } from './context.ts';
export type { RedactFn, RedactTarget, ContentOptions } from './content.ts';
export type { ChatMessage, MessagePart, OutputMessage, SystemInstructions, ToolDefinition, GenAIConversation } from './adapters/messages.ts';
// Experiments: replay a dataset on any model, score the answers, summarise and compare runs (CLI: parallax eval).
export * from './eval/index.ts';
