export { startHandshakeService, type HandshakeServiceOptions } from './service.js';
export { decideHandshake, shouldHandshake, PRODUCER, SERVICE_NAME, type HandshakeOutcome } from './decide.js';
export { performHandshake, handshakeHandlers } from './handler.js';
