/**
 * The venue split in processes: the engine's internal port (server.ts), a gateway's remote engine
 * (client.ts), their wire format (wire.ts) and the two processes (processes.ts). docs/internal-transport.md.
 */
export { EngineServer, type EngineServerOptions, type EngineServerStats } from './server.js';
export { RemoteEngine, REMOTE_DEFAULTS, type RemoteEngineOptions } from './client.js';
export { ENGINE_WS_PATH, WIRE_LIMITS, decodeFrame, encodeFrame, frameCommands } from './wire.js';
export {
  jsonLines,
  quiet,
  startEngineProcess,
  startGateway,
  type EngineProcess,
  type EngineProcessOptions,
  type GatewayOptions,
  type GatewayProcess,
  type ProcessLog,
} from './processes.js';
