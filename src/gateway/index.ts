/**
 * The gateway: HTTP and WebSocket servers, authentication, rate limits. For now its authentication: API keys
 * and roles (the servers arrive with the trading API).
 */
export * from './auth/index.js';
