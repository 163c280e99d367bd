// One spelling per provider, the conventions' `gen_ai.provider.name` values, whatever an instrumentation
// wrote ("Anthropic", "openai.chat", "google.generative-ai", "vertexai"…): metrics group by provider, and
// the price lookup needs a name it knows.

const ALIASES: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  azure: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  azure_openai: 'azure.ai.openai',
  'az.ai.openai': 'azure.ai.openai',
  'azure.ai.openai': 'azure.ai.openai',
  'az.ai.inference': 'azure.ai.inference',
  'azure.ai.inference': 'azure.ai.inference',
  gemini: 'gcp.gemini',
  google: 'gcp.gemini',
  'google.generative-ai': 'gcp.gemini',
  'google-genai': 'gcp.gemini',
  google_genai: 'gcp.gemini',
  'gcp.gemini': 'gcp.gemini',
  'gcp.gen_ai': 'gcp.gen_ai',
  vertexai: 'gcp.vertex_ai',
  vertex_ai: 'gcp.vertex_ai',
  'google.vertex': 'gcp.vertex_ai',
  'gcp.vertex_ai': 'gcp.vertex_ai',
  bedrock: 'aws.bedrock',
  'amazon-bedrock': 'aws.bedrock',
  aws: 'aws.bedrock',
  'aws.bedrock': 'aws.bedrock',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  mistral_ai: 'mistral_ai',
  xai: 'x_ai',
  x_ai: 'x_ai',
  groq: 'groq',
  deepseek: 'deepseek',
  cohere: 'cohere',
  perplexity: 'perplexity',
  watsonx: 'ibm.watsonx.ai',
  'ibm.watsonx.ai': 'ibm.watsonx.ai',
};

/**
 * The conventions' name for a provider. AI SDK provider ids carry the API after a dot
 * (`openai.chat`, `anthropic.messages`, `google.vertex.chat`): the longest known prefix decides.
 * Names it does not know are kept, lower-cased.
 */
export function providerName(raw: string): string {
  if (!raw) return '';
  const name = raw.trim().toLowerCase();
  const known = ALIASES[name];
  if (known) return known;
  const segments = name.split('.');
  for (let n = segments.length - 1; n >= 1; n--) {
    const alias = ALIASES[segments.slice(0, n).join('.')];
    if (alias) return alias;
  }
  return name;
}
