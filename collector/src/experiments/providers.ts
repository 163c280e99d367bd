// Provider keys and base URLs for the experiment runner come from the collector's own environment (or
// its start-up config), never from a request. openai_compatible servers get their own key, so a base URL
// named in a request can never receive the collector's OpenAI key.

export interface ProviderCredentials {
  apiKey: string | undefined;
  baseUrl: string | undefined;
}

export interface ProviderEnv {
  openai: ProviderCredentials;
  anthropic: ProviderCredentials;
  gemini: ProviderCredentials;
  /** Key sent to openai_compatible servers (their base URL comes with each configuration). */
  openaiCompatibleApiKey: string | undefined;
}

export function providerEnvFrom(env: NodeJS.ProcessEnv = process.env): ProviderEnv {
  const value = (name: string) => env[name] || undefined;
  return {
    openai: { apiKey: value('OPENAI_API_KEY'), baseUrl: value('OPENAI_BASE_URL') },
    anthropic: { apiKey: value('ANTHROPIC_API_KEY'), baseUrl: value('ANTHROPIC_BASE_URL') },
    gemini: { apiKey: value('GEMINI_API_KEY') ?? value('GOOGLE_API_KEY'), baseUrl: value('GEMINI_BASE_URL') },
    openaiCompatibleApiKey: value('OPENAI_COMPATIBLE_API_KEY'),
  };
}

/** What is missing to call `provider`, as a sentence a person can act on; null when nothing is. */
export function missingCredentials(env: ProviderEnv, provider: 'openai' | 'anthropic' | 'gemini' | 'openai_compatible'): string | null {
  if (provider === 'openai_compatible') return null;
  if (env[provider].apiKey) return null;
  const variable = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY', gemini: 'GEMINI_API_KEY' }[provider];
  return `the collector has no ${provider} key: set ${variable} in the collector's environment and restart it`;
}
