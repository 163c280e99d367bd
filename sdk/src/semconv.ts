// OpenTelemetry GenAI semantic conventions, v1.41, as this SDK's own constants.
// Why not @opentelemetry/semantic-conventions: from 1.42 it marks every GenAI export deprecated (the GenAI
// conventions moved to a project with no published package), and the collector reads exactly these names.

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';

export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
export const ATTR_GEN_AI_REQUEST_TOP_K = 'gen_ai.request.top_k';
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = 'gen_ai.request.frequency_penalty';
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = 'gen_ai.request.presence_penalty';
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = 'gen_ai.request.stop_sequences';
export const ATTR_GEN_AI_REQUEST_SEED = 'gen_ai.request.seed';
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = 'gen_ai.request.choice.count';
export const ATTR_GEN_AI_REQUEST_ENCODING_FORMATS = 'gen_ai.request.encoding_formats';
export const ATTR_GEN_AI_OUTPUT_TYPE = 'gen_ai.output.type';

export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';

export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';

export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = 'gen_ai.embeddings.dimension.count';

export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions';
export const ATTR_GEN_AI_TOOL_DEFINITIONS = 'gen_ai.tool.definitions';

export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_SESSION_ID = 'session.id';
export const ATTR_USER_ID = 'user.id';

/** `gen_ai.operation.name` values. */
export const GEN_AI_OPERATION_CHAT = 'chat';
export const GEN_AI_OPERATION_EMBEDDINGS = 'embeddings';
export const GEN_AI_OPERATION_TEXT_COMPLETION = 'text_completion';
export const GEN_AI_OPERATION_GENERATE_CONTENT = 'generate_content';

/** `gen_ai.output.type` values. */
export const GEN_AI_OUTPUT_TYPE_TEXT = 'text';
export const GEN_AI_OUTPUT_TYPE_JSON = 'json';
export const GEN_AI_OUTPUT_TYPE_IMAGE = 'image';
export const GEN_AI_OUTPUT_TYPE_SPEECH = 'speech';

// Parallax's own attributes (not in the conventions): context set with withContext(), and content bookkeeping.
export const ATTR_PARALLAX_TAGS = 'parallax.tags';
export const ATTR_PARALLAX_METADATA_PREFIX = 'parallax.metadata.';
export const ATTR_PARALLAX_PROMPT_NAME = 'parallax.prompt.name';
export const ATTR_PARALLAX_PROMPT_VERSION = 'parallax.prompt.version';
/** Names of the content attributes that were shortened to fit the size cap. */
export const ATTR_PARALLAX_CONTENT_TRUNCATED = 'parallax.content.truncated';
/** Set when the caller stopped a stream early (break, abort): the span then holds what arrived until then. */
export const ATTR_PARALLAX_STREAM_CANCELLED = 'parallax.stream.cancelled';
/**
 * Set when a stream was garbage-collected before it was read to the end, broken out of or aborted: its span ends
 * then, with what had arrived, at the time of its first chunk (or of the response when none was read).
 */
export const ATTR_PARALLAX_STREAM_ABANDONED = 'parallax.stream.abandoned';
