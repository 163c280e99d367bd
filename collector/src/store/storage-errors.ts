/**
 * ClickHouse error codes that say "storage cannot serve this right now", not "this query is wrong": the table or
 * database is detached or being replaced, the server is out of memory, disk, time or connections, or is shutting
 * down. A request that failed this way deserves 503 + Retry-After, like an ingest that could not be committed.
 * Anything else ClickHouse refuses (a syntax error, a bad type) is the collector's bug: 500.
 */
const UNAVAILABLE_CODES = new Set([
  '60', // UNKNOWN_TABLE (detached)
  '81', // UNKNOWN_DATABASE
  '159', // TIMEOUT_EXCEEDED
  '164', // READONLY
  '173', // CANNOT_ALLOCATE_MEMORY
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '218', // TABLE_IS_DROPPED
  '236', // ABORTED
  '241', // MEMORY_LIMIT_EXCEEDED
  '242', // TABLE_IS_READ_ONLY
  '243', // NOT_ENOUGH_SPACE
  '252', // TOO_MANY_PARTS
  '279', // ALL_CONNECTION_TRIES_FAILED
  '394', // QUERY_WAS_CANCELLED
  '473', // DEADLOCK_AVOIDED
]);

/** Node socket errors and @clickhouse/client's own timeout: the server could not be reached or did not answer. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

/**
 * What ClickHouse said, by shape rather than `instanceof`: chDB's connection builds its errors from its own
 * (CommonJS) copy of @clickhouse/client-common, so the class differs from the one this module would import.
 */
interface ClickHouseErrorShape extends Error {
  code: string;
  type?: string;
}

function isClickHouseError(error: Error): error is ClickHouseErrorShape {
  return error.name === 'ClickHouseError' || error.constructor?.name === 'ClickHouseError';
}

/**
 * Whether an error thrown by a storage call means ClickHouse is (for now) unavailable rather than our query wrong;
 * returns a short description of the outage (the ClickHouse error type or the socket error), or undefined.
 */
export function storageOutage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (isClickHouseError(error)) {
    return UNAVAILABLE_CODES.has(String(error.code)) ? `ClickHouse error ${error.code} ${error.type ?? ''}`.trim() : undefined;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code && NETWORK_CODES.has(code)) return `${code} reaching ClickHouse`;
  if (/^Timeout error/i.test(error.message)) return 'ClickHouse did not answer in time';
  return error.cause !== undefined && error.cause !== error ? storageOutage(error.cause) : undefined;
}
