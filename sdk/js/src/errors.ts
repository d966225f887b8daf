/**
 * Errors as classes: one per error code of the API documents, each carrying the code, message,
 * HTTP status, request id and details of the answer. The class is chosen by `code` (so
 * `instanceof NotFoundError` works), falling back to the HTTP status for codes this SDK does not
 * know (Healing Guard's `PIPELINE_NOT_FOUND` is a `NotFoundError` whose `code` stays
 * `PIPELINE_NOT_FOUND`).
 */

export interface ErrorInit {
  code?: string | undefined;
  status?: number | undefined;
  requestId?: string | undefined;
  details?: unknown;
  timestamp?: string | undefined;
  body?: unknown;
  retryAfter?: number | undefined;
}

export class MLOpsBotError extends Error {
  static readonly code: string = 'ERROR';
  readonly code: string;
  /** The HTTP status; undefined when no answer came back. */
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly details: unknown;
  readonly timestamp: string | undefined;
  readonly body: unknown;

  constructor(message: string, init: ErrorInit = {}) {
    super(message);
    this.name = new.target.name;
    this.code = init.code ?? (new.target as unknown as typeof MLOpsBotError).code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.details = init.details;
    this.timestamp = init.timestamp;
    this.body = init.body;
  }
}

/** The Healing Guard document's name for the same base class. */
export { MLOpsBotError as HealingGuardError };

export class InvalidRequestError extends MLOpsBotError {
  static override readonly code = 'INVALID_REQUEST';
}
export class UnauthorizedError extends MLOpsBotError {
  static override readonly code = 'UNAUTHORIZED';
}
export class ForbiddenError extends MLOpsBotError {
  static override readonly code = 'FORBIDDEN';
}
export class NotFoundError extends MLOpsBotError {
  static override readonly code = 'NOT_FOUND';
}
export class ConflictError extends MLOpsBotError {
  static override readonly code = 'CONFLICT';
}
export class PayloadTooLargeError extends MLOpsBotError {
  static override readonly code = 'PAYLOAD_TOO_LARGE';
}
export class ValidationFailedError extends MLOpsBotError {
  static override readonly code = 'VALIDATION_FAILED';
}
/** Refused for now; `retryAfter` (seconds) says when to come back, when the server said. */
export class RateLimitedError extends MLOpsBotError {
  static override readonly code = 'RATE_LIMITED';
  readonly retryAfter: number | undefined;
  constructor(message: string, init: ErrorInit = {}) {
    super(message, init);
    this.retryAfter = init.retryAfter;
  }
}
export class InternalError extends MLOpsBotError {
  static override readonly code = 'INTERNAL_ERROR';
}
export class ServiceUnavailableError extends MLOpsBotError {
  static override readonly code = 'SERVICE_UNAVAILABLE';
}
/** No HTTP answer: the connection failed or timed out. */
export class TransportError extends MLOpsBotError {
  static override readonly code = 'TRANSPORT_ERROR';
}
/** An answer that is not the JSON the documents describe. */
export class InvalidResponseError extends MLOpsBotError {
  static override readonly code = 'INVALID_RESPONSE';
}
/** An optional package a feature needs is missing (the dashboard on Node 20 needs `ws`). */
export class DependencyMissingError extends MLOpsBotError {
  static override readonly code = 'DEPENDENCY_MISSING';
}

type ErrorClass = new (message: string, init?: ErrorInit) => MLOpsBotError;

const BY_CODE: Record<string, ErrorClass> = Object.fromEntries(
  [
    InvalidRequestError,
    UnauthorizedError,
    ForbiddenError,
    NotFoundError,
    ConflictError,
    PayloadTooLargeError,
    ValidationFailedError,
    RateLimitedError,
    InternalError,
    ServiceUnavailableError,
  ].map((cls) => [cls.code, cls]),
);

const BY_STATUS: Record<number, ErrorClass> = {
  400: InvalidRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: ValidationFailedError,
  429: RateLimitedError,
  500: InternalError,
  502: ServiceUnavailableError,
  503: ServiceUnavailableError,
  504: ServiceUnavailableError,
};

/** The error for a spec error body (`{"error": {...}}`), from HTTP or from a WebSocket frame. */
export function errorFromBody(
  body: unknown,
  status?: number,
  fallbackMessage = 'request failed',
  requestId?: string,
  retryAfter?: number,
): MLOpsBotError {
  const raw = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['error'] : undefined;
  const error = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const code = typeof error['code'] === 'string' && error['code'] ? error['code'] : undefined;
  let cls: ErrorClass | undefined = (code && BY_CODE[code]) || (status !== undefined ? BY_STATUS[status] : undefined);
  if (!cls) cls = status !== undefined && status >= 500 ? InternalError : MLOpsBotError;
  const message = typeof error['message'] === 'string' && error['message'] ? error['message'] : fallbackMessage;
  const foundId = typeof error['request_id'] === 'string' ? error['request_id'] : requestId;
  const hinted = retryAfter ?? (typeof error['retry_after'] === 'number' ? error['retry_after'] : undefined);
  return new cls(message, {
    code,
    status,
    requestId: foundId,
    details: error['details'],
    timestamp: typeof error['timestamp'] === 'string' ? error['timestamp'] : undefined,
    body,
    retryAfter: hinted,
  });
}
