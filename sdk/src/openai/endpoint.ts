// Which provider an `openai` client really talks to. The same client reaches OpenAI, Azure and every
// OpenAI-compatible server through `baseURL`, and the provider name is what costs and dashboards group by.

export interface Endpoint {
  provider: string;
  serverAddress: string | undefined;
  serverPort: number | undefined;
}

/** Hosts whose provider has a name in the GenAI conventions (or an obvious one). */
const KNOWN_HOSTS: Array<[suffix: string, provider: string]> = [
  ['api.openai.com', 'openai'],
  ['openai.azure.com', 'azure.ai.openai'],
  ['cognitiveservices.azure.com', 'azure.ai.openai'],
  ['services.ai.azure.com', 'azure.ai.inference'],
  ['models.inference.ai.azure.com', 'azure.ai.inference'],
  ['api.groq.com', 'groq'],
  ['api.deepseek.com', 'deepseek'],
  ['openrouter.ai', 'openrouter'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.x.ai', 'x_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.together.xyz', 'together_ai'],
  ['api.fireworks.ai', 'fireworks_ai'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
  ['aiplatform.googleapis.com', 'gcp.vertex_ai'],
  ['api.anthropic.com', 'anthropic'],
  ['api.cerebras.ai', 'cerebras'],
  ['api.moonshot.ai', 'moonshot'],
];

const IP_OR_LOCAL = /^(localhost|\[?[0-9a-f:.]+\]?)$/i;

export function describeEndpoint(baseURL: string | undefined, isAzureClient: boolean): Endpoint {
  let url: URL;
  try {
    url = new URL(baseURL ?? 'https://api.openai.com/v1');
  } catch {
    return { provider: isAzureClient ? 'azure.ai.openai' : 'openai', serverAddress: undefined, serverPort: undefined };
  }
  const host = url.hostname.toLowerCase();
  const serverPort = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : undefined;
  return { provider: isAzureClient ? 'azure.ai.openai' : providerForHost(host, url), serverAddress: host, serverPort };
}

function providerForHost(host: string, url: URL): string {
  for (const [suffix, provider] of KNOWN_HOSTS) {
    if (host === suffix || host.endsWith(`.${suffix}`)) return provider;
  }
  if (url.port === '11434' || host.includes('ollama')) return 'ollama';
  if (host.includes('vllm')) return 'vllm';
  if (host.includes('lmstudio') || url.port === '1234') return 'lm_studio';
  // A local or bare-IP server could be anything that speaks the OpenAI API.
  if (IP_OR_LOCAL.test(host) || !host.includes('.')) return 'openai_compatible';
  // Otherwise the registrable name of the host: llm.acme.io → acme.
  const labels = host.split('.');
  return labels[labels.length - 2] ?? host;
}
