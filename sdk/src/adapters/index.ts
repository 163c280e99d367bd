// `@parallax/sdk/adapters`: provider request/response ⇄ GenAI message JSON, for replaying stored conversations
// (the collector's experiment runner). Each provider module has the same three functions:
// toGenAI(request), outputToGenAI(response) and fromGenAI({ model, inputMessages, systemInstructions,
// toolDefinitions, params }).
export * as openai from './openai.ts';
export * as anthropic from './anthropic.ts';
export * as google from './google.ts';
export type * from './messages.ts';
