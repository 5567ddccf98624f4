export * from './errors.js';
export * from './redact.js';
export * from './logger.js';
export * from './metrics.js';
export * from './telemetry.js';
