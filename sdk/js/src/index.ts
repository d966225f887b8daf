/**
 * `@mlops-bot/sdk`: clients for the mlops-bot management API (`MLOpsBotClient`) and the Healing
 * Guard API (`HealingGuardClient`, also at `@mlops-bot/sdk/healing-guard`). Runtime needs: `fetch`
 * (Node 20, browsers) and, for the dashboard stream on Node 20, the optional `ws` package.
 */
export { MLOpsBotClient, HealingGuardClient, type HealingGuardOptions } from './clients.js';
export * from './errors.js';
export { type ClientOptions, type Query, retryAfterSeconds, VERSION } from './transport.js';
export {
  type DashboardConnection,
  type DashboardHandlers,
  type DashboardMessage,
  type MessageType,
  defaultDashboardURL,
  parseMessage,
} from './dashboard.js';
export type * from './types.js';
