/**
 * One authenticated `fetch` plus the retry policy. Retries are bounded and only where they cannot
 * do harm: a 429 or 503 means the server did not do the work, so any call is retried (after
 * `Retry-After` when the server says, never longer than `maxRetryAfter`; a longer wait is thrown
 * as `RateLimitedError` for the caller to schedule); a 502 or 504 may hide work that was done, so
 * only idempotent calls are retried on them; a connection that never opened is retried for every
 * call. Backoff without a hint is 0.5 s, 1 s, 2 s...
 */
import { InvalidResponseError, MLOpsBotError, TransportError, errorFromBody } from './errors.js';

export const VERSION = '0.1.0';

export interface ClientOptions {
  /** `https://host[/prefix]`; `baseURL` and `baseUrl` are the same option (the two documents differ). */
  baseURL?: string;
  baseUrl?: string;
  /** The credential, sent as `Authorization: Bearer`: an API key (`apiKey`) or a JWT (`apiToken`). */
  apiKey?: string;
  apiToken?: string;
  /** Per request, in milliseconds (default 30000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** The longest `Retry-After` (seconds) waited for before giving the refusal to the caller (default 60). */
  maxRetryAfter?: number;
  headers?: Record<string, string>;
  /** Injectable for tests and other runtimes. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export type Query = Record<string, string | number | boolean | Date | undefined | null>;

export interface RequestOptions {
  query?: Query | undefined;
  body?: unknown;
  /** Retry on 502/504 too (default: GET, PUT, DELETE). */
  idempotent?: boolean;
  /** Statuses answered with a body that is returned rather than thrown (a 503 health report). */
  accept?: number[];
  /** `json` (default) or `text`. */
  as?: 'json' | 'text';
}

const ALWAYS_RETRIED = new Set([429, 503]);
const RETRIED_WHEN_IDEMPOTENT = new Set([502, 504]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const REQUEST_ID_HEADERS = ['x-request-id', 'apigw-requestid', 'x-amzn-requestid'];

/** `Retry-After` as seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.max(0, Number(trimmed));
  const when = Date.parse(trimmed);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - now) / 1000);
}

export class Transport {
  readonly baseURL: string;
  readonly token: string;
  readonly maxRetries: number;
  readonly maxRetryAfter: number;
  readonly timeoutMs: number;
  readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions) {
    const base = options.baseURL ?? options.baseUrl;
    if (!base) throw new TypeError('baseURL is required');
    const token = options.apiKey ?? options.apiToken;
    if (!token) throw new TypeError('apiKey (or apiToken) is required');
    this.baseURL = base.replace(/\/+$/, '');
    this.token = token;
    this.maxRetries = Math.max(0, options.maxRetries ?? 3);
    this.maxRetryAfter = options.maxRetryAfter ?? 60;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.headers = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(typeof window === 'undefined' ? { 'user-agent': `mlops-bot-sdk-js/${VERSION}` } : {}),
      ...(options.headers ?? {}),
    };
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  url(path: string, query?: Query): string {
    const url = new URL(this.baseURL + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      url.searchParams.set(key, value instanceof Date ? value.toISOString() : String(value));
    }
    return url.toString();
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    method = method.toUpperCase();
    const safe = options.idempotent ?? IDEMPOTENT.has(method);
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { ...this.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        if (attempt < this.maxRetries && neverOpened(error)) {
          await this.sleep(backoff(attempt) * 1000);
          continue;
        }
        throw new TransportError(`${method} ${path} failed without an answer: ${describe(error)}`);
      }
      if (response.ok || (options.accept ?? []).includes(response.status)) {
        return (await decode(response, options.as ?? 'json')) as T;
      }
      const status = response.status;
      const hinted = retryAfterSeconds(response.headers.get('retry-after'));
      const retryable = ALWAYS_RETRIED.has(status) || (safe && RETRIED_WHEN_IDEMPOTENT.has(status));
      if (retryable && attempt < this.maxRetries) {
        const delay = hinted ?? backoff(attempt);
        if (delay <= this.maxRetryAfter) {
          await response.body?.cancel();
          await this.sleep(delay * 1000);
          continue;
        }
      }
      throw await errorFromResponse(response, hinted);
    }
  }
}

function backoff(attempt: number): number {
  return 0.5 * 2 ** attempt;
}

function neverOpened(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'].includes(cause?.code ?? '');
}

function describe(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const text = error instanceof Error ? error.message : String(error);
  return cause instanceof Error ? `${text} (${cause.message})` : text;
}

async function decode(response: Response, as: 'json' | 'text'): Promise<unknown> {
  const text = await response.text();
  if (as === 'text') return text;
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidResponseError('the server answered with something that is not JSON', {
      status: response.status,
      body: text.slice(0, 1000),
    });
  }
}

async function errorFromResponse(response: Response, retryAfter: number | undefined): Promise<MLOpsBotError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* a gateway's HTML page or nothing: kept as text */
  }
  const requestId = REQUEST_ID_HEADERS.map((h) => response.headers.get(h)).find((v) => v) ?? undefined;
  const fallback = typeof body === 'string' && body ? body : response.statusText || `HTTP ${response.status}`;
  return errorFromBody(body, response.status, fallback, requestId, retryAfter);
}

export function segment(value: string): string {
  return encodeURIComponent(value);
}

export function splitFullName(fullName: string): [string, string] {
  const [owner, name, ...rest] = fullName.split('/');
  if (!owner || !name || rest.length) throw new TypeError("fullName must look like 'owner/repo'");
  return [owner, name];
}
