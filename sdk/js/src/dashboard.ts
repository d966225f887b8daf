/**
 * The live dashboard over WebSocket (`/ws/dashboard`). Browsers and runtimes with a global
 * `WebSocket` use it (the credential goes as `?token=`, since browsers cannot set headers); on
 * Node 20, which has none, the optional `ws` package is loaded (`npm install ws`) and the
 * credential goes as `Authorization: Bearer`.
 */
import { DependencyMissingError, MLOpsBotError, TransportError, errorFromBody } from './errors.js';

export type MessageType = 'system_metrics' | 'pipeline_updates' | 'failure_alerts' | 'healing_progress' | string;

export interface DashboardMessage {
  type: MessageType;
  data?: unknown;
  timestamp?: string;
  [key: string]: unknown;
}

export interface DashboardHandlers {
  onSystemMetrics?: (data: unknown, message: DashboardMessage) => void;
  onPipelineUpdate?: (data: unknown, message: DashboardMessage) => void;
  onFailureAlert?: (data: unknown, message: DashboardMessage) => void;
  onHealingProgress?: (data: unknown, message: DashboardMessage) => void;
  /** Every message, whatever its type (after the typed handler, if any). */
  onMessage?: (message: DashboardMessage) => void;
  /** An `error` frame from the server (as the matching typed error) or a failed connection. */
  onError?: (error: MLOpsBotError) => void;
  onOpen?: () => void;
  onClose?: (code: number, reason: string) => void;
  /** Only these message types (sent to the server as a subscribe request); default all. */
  types?: MessageType[];
}

export interface DashboardConnection {
  /** Resolves once connected (and the subscribe request sent); rejects when the connection fails. */
  readonly opened: Promise<void>;
  /** Resolves when the connection ends, for whatever reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

const HANDLER_BY_TYPE: Record<string, keyof DashboardHandlers> = {
  system_metrics: 'onSystemMetrics',
  pipeline_updates: 'onPipelineUpdate',
  failure_alerts: 'onFailureAlert',
  healing_progress: 'onHealingProgress',
};

interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
type SocketConstructor = new (url: string, options?: unknown) => SocketLike;

/** `http(s)://host[/prefix]` -> `ws(s)://host[/prefix]/ws/dashboard`. */
export function defaultDashboardURL(baseURL: string): string {
  const url = new URL(baseURL);
  const scheme: Record<string, string> = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };
  const protocol = scheme[url.protocol];
  if (!protocol) throw new TypeError(`baseURL must be http(s) or ws(s), not ${baseURL}`);
  return `${protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}/ws/dashboard`;
}

export function parseMessage(raw: unknown): DashboardMessage {
  const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw as ArrayBuffer);
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return { type: 'unknown', data: text };
  }
  if (decoded === null || typeof decoded !== 'object' || typeof (decoded as { type?: unknown }).type !== 'string') {
    return { type: 'unknown', data: decoded };
  }
  return decoded as DashboardMessage;
}

async function socketClass(): Promise<{ Socket: SocketConstructor; native: boolean }> {
  const native = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (native) return { Socket: native, native: true };
  try {
    const name = 'ws'; // a variable, so bundlers for browsers do not try to include it
    const mod = (await import(name)) as { default?: SocketConstructor; WebSocket?: SocketConstructor };
    const Socket = mod.WebSocket ?? mod.default;
    if (!Socket) throw new Error('no WebSocket export');
    return { Socket, native: false };
  } catch (error) {
    throw new DependencyMissingError(
      `the dashboard stream needs a WebSocket: this runtime has none, so install the 'ws' package (npm install ws): ${String(error)}`,
    );
  }
}

export class Dashboard {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly openTimeoutMs: number,
  ) {}

  /** Connect and dispatch messages to the handlers; returns at once with a handle to close it. */
  connect(handlers: DashboardHandlers = {}): DashboardConnection {
    let socket: SocketLike | undefined;
    let closing = false;
    let resolveClosed!: (value: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));
    const fail = (error: MLOpsBotError): void => {
      if (handlers.onError) handlers.onError(error);
    };
    const opened = (async () => {
      const { Socket, native } = await socketClass();
      if (closing) return;
      await new Promise<void>((resolve, reject) => {
        const url = new URL(this.url);
        if (native) url.searchParams.set('token', this.token);
        socket = native
          ? new Socket(url.toString())
          : new Socket(url.toString(), { headers: { authorization: `Bearer ${this.token}` }, handshakeTimeout: this.openTimeoutMs });
        let isOpen = false;
        socket.addEventListener('open', () => {
          isOpen = true;
          const request: Record<string, unknown> = { action: 'subscribe' };
          if (handlers.types) request['types'] = [...handlers.types].sort();
          socket!.send(JSON.stringify(request));
          handlers.onOpen?.();
          resolve();
        });
        socket.addEventListener('message', (event: { data: unknown }) => {
          const message = parseMessage(event.data);
          if (message.type === 'error') {
            fail(errorFromBody(message, undefined, 'the dashboard refused the request'));
            return;
          }
          if (handlers.types && !handlers.types.includes(message.type)) return;
          const name = HANDLER_BY_TYPE[message.type];
          const handler = name ? (handlers[name] as ((d: unknown, m: DashboardMessage) => void) | undefined) : undefined;
          handler?.(message.data, message);
          handlers.onMessage?.(message);
        });
        socket.addEventListener('error', (event: { message?: string; error?: unknown }) => {
          const error = new TransportError(`dashboard stream ${this.url} failed: ${event.message ?? String(event.error ?? 'error')}`);
          if (!isOpen) reject(error);
          else fail(error);
        });
        socket.addEventListener('close', (event: { code: number; reason: unknown }) => {
          const reason = String(event.reason ?? '');
          if (!isOpen) reject(new TransportError(`dashboard stream ${this.url} closed before opening (${event.code})`));
          handlers.onClose?.(event.code, reason);
          resolveClosed({ code: event.code, reason });
        });
      });
    })();
    opened.catch((error: unknown) => {
      const wrapped = error instanceof MLOpsBotError ? error : new TransportError(String(error));
      fail(wrapped);
      resolveClosed({ code: 1006, reason: wrapped.message });
    });
    return {
      opened,
      closed,
      close: () => {
        closing = true;
        if (socket) socket.close(1000, 'client closed');
        else void opened.finally(() => resolveClosed({ code: 1000, reason: 'client closed' })).catch(() => undefined);
      },
    };
  }
}
