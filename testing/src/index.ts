export * from './openai-server.ts';
export * from './anthropic-server.ts';
export * from './gemini-server.ts';
