/**
 * Attributes that carry a call's conversation, in the conventions the collector reads. Once a
 * span's messages are in the message columns, these copies are left out of the attributes map:
 * storing them twice doubled the bytes per span and the JSON of every insert.
 */
const EXACT = new Set([
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.definitions',
  'gen_ai.prompt',
  'gen_ai.completion',
  'ai.prompt',
  'ai.prompt.messages',
  'ai.prompt.tools',
  'ai.response.text',
  'ai.response.toolCalls',
  'ai.result.text',
  'ai.result.toolCalls',
  'input.value',
  'output.value',
]);

const PREFIXES = ['gen_ai.prompt.', 'gen_ai.completion.', 'llm.input_messages.', 'llm.output_messages.', 'llm.tools.', 'llm.request.functions.'];

export function isContentAttribute(key: string): boolean {
  if (EXACT.has(key)) return true;
  for (const prefix of PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}
