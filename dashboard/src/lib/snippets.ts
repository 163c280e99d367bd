/** Copy-paste set-up for each SDK Parallax wraps, and for any OpenTelemetry exporter. */
export interface Snippet {
  id: string;
  label: string;
  language: string;
  code: string;
}

export function setupSnippets(ingestBase: string, key: string): Snippet[] {
  const env = `export PARALLAX_API_KEY=${key}
export OTEL_EXPORTER_OTLP_ENDPOINT=${ingestBase}`;
  const wrapped = (pkg: string, imports: string, client: string, call: string) => `// npm install @parallax/sdk ${pkg}
${imports}
import { init, wrap } from '@parallax/sdk';

init(); // reads PARALLAX_API_KEY and OTEL_EXPORTER_OTLP_ENDPOINT
const client = wrap(${client});
${call}`;
  return [
    { id: 'env', label: 'Environment', language: 'sh', code: env },
    {
      id: 'openai',
      label: 'openai',
      language: 'ts',
      code: wrapped('openai', "import OpenAI from 'openai';", 'new OpenAI()', "await client.chat.completions.create({\n  model: 'gpt-4o-mini',\n  messages: [{ role: 'user', content: 'Hi' }],\n});"),
    },
    {
      id: 'anthropic',
      label: '@anthropic-ai/sdk',
      language: 'ts',
      code: wrapped(
        '@anthropic-ai/sdk',
        "import Anthropic from '@anthropic-ai/sdk';",
        'new Anthropic()',
        "await client.messages.create({\n  model: 'claude-haiku-4-5',\n  max_tokens: 512,\n  messages: [{ role: 'user', content: 'Hi' }],\n});",
      ),
    },
    {
      id: 'google-genai',
      label: '@google/genai',
      language: 'ts',
      code: wrapped(
        '@google/genai',
        "import { GoogleGenAI } from '@google/genai';",
        'new GoogleGenAI({ apiKey: process.env.GEMINI_API_KEY })',
        "await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' });",
      ),
    },
    {
      id: 'google-generative-ai',
      label: '@google/generative-ai',
      language: 'ts',
      code: wrapped(
        '@google/generative-ai',
        "import { GoogleGenerativeAI } from '@google/generative-ai';",
        'new GoogleGenerativeAI(process.env.GEMINI_API_KEY!)',
        "await client.getGenerativeModel({ model: 'gemini-2.5-flash' }).generateContent('Hi');",
      ),
    },
    {
      id: 'otlp',
      label: 'OpenTelemetry (any language)',
      language: 'sh',
      code: `# Any OTLP/HTTP exporter (protobuf or JSON), GenAI semantic conventions:
export OTEL_EXPORTER_OTLP_ENDPOINT=${ingestBase}
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer ${key}"
export OTEL_SERVICE_NAME=my-app`,
    },
  ];
}
