// wrap(client): recognise an LLM client by its shape and hand it to its provider's wrapper. Shape, not
// `instanceof`, so the SDK never imports a provider package the app does not use (they are optional peers).
import { wrapAnthropic } from './anthropic/wrap.ts';
import { wrapGoogleGenAI } from './google-genai/wrap.ts';
import { wrapGoogleGenerativeAI } from './google-generative-ai/wrap.ts';
import { isOpenAIClient, wrapOpenAI, type OpenAIWrapOptions } from './openai/wrap.ts';

export type WrapOptions = OpenAIWrapOptions;

/** One provider's wrapper: `matches` decides by shape; `wrap` instruments in place and returns the same client. */
export interface ClientWrapper {
  name: string;
  matches(client: unknown): boolean;
  wrap<T>(client: T, options?: WrapOptions): T;
}

function isAnthropicClient(client: unknown): boolean {
  const c = client as { messages?: { create?: unknown }; baseURL?: unknown } | null;
  return typeof c === 'object' && c !== null && typeof c.messages?.create === 'function' && typeof c.baseURL === 'string';
}

/** `@google/genai`'s GoogleGenAI: `ai.models.generateContent`. */
function isGoogleGenAIClient(client: unknown): boolean {
  const c = client as { models?: { generateContent?: unknown } } | null;
  return typeof c === 'object' && c !== null && typeof c.models?.generateContent === 'function';
}

/** `@google/generative-ai`'s GoogleGenerativeAI: `genAI.getGenerativeModel(...)`. */
function isGoogleGenerativeAIClient(client: unknown): boolean {
  const c = client as { getGenerativeModel?: unknown } | null;
  return typeof c === 'object' && c !== null && typeof c.getGenerativeModel === 'function';
}

// Order matters: the first wrapper whose shape matches wins.
const wrappers: ClientWrapper[] = [
  { name: 'openai', matches: isOpenAIClient, wrap: wrapOpenAI },
  { name: 'anthropic', matches: isAnthropicClient, wrap: (client, options) => wrapAnthropic(client as never, options) as typeof client },
  { name: '@google/genai', matches: isGoogleGenAIClient, wrap: (client, options) => wrapGoogleGenAI(client as never, options) as typeof client },
  {
    name: '@google/generative-ai',
    matches: isGoogleGenerativeAIClient,
    wrap: (client, options) => wrapGoogleGenerativeAI(client as never, options) as typeof client,
  },
];

const warned = new Set<string>();

/**
 * Traces every LLM call made through `client` and returns the same client (same object, same type). A client
 * this SDK does not know is returned unchanged, with a one-time warning.
 */
export function wrap<T>(client: T, options?: WrapOptions): T {
  for (const wrapper of wrappers) {
    let matches = false;
    try {
      matches = wrapper.matches(client);
    } catch {
      matches = false;
    }
    if (matches) {
      try {
        return wrapper.wrap(client, options);
      } catch (error) {
        warnOnce(`${wrapper.name}-failed`, `@parallax/sdk: could not instrument the ${wrapper.name} client (${String(error)}); it is used untraced.`);
        return client;
      }
    }
  }
  const kind = (client as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof client;
  warnOnce(kind, `@parallax/sdk: wrap() does not know this client (${kind}); it is returned unchanged and its calls are not traced. Supported: ${wrappers.map((w) => w.name).join(', ')}.`);
  return client;
}

function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(message);
}
