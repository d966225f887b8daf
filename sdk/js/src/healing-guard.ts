/** `@mlops-bot/sdk/healing-guard`: the Healing Guard client and what it answers with. */
export { HealingGuardClient, type HealingGuardOptions } from './clients.js';
export * from './errors.js';
export { type DashboardConnection, type DashboardHandlers, type DashboardMessage } from './dashboard.js';
export type * from './types.js';
