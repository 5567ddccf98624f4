import type { Handlers } from '@preflight/bus';
import type { Logger } from '@preflight/core';
import { carriedContractFacts } from '@preflight/contracts';
import type { ConnectorCredentialsAudited, ConnectorHandshake, ConnectorSchemaChecked } from '@preflight/events';
import { finishEvent, startEvent, type LineageSettings } from './openlineage.js';
import type { LineageTransport } from './transport.js';

interface Facts {
  handshake?: ConnectorHandshake;
  schema?: ConnectorSchemaChecked;
  credentials?: ConnectorCredentialsAudited;
}

/** Attempts whose outcome has not arrived yet; bounded, oldest dropped first (a run without facets is still a run). */
const MAX_OPEN = 10_000;

/**
 * The handshake with its contract facts: as carried, or for a handshake written before they were,
 * parsed here once (counted, at debug). A contract that does not parse names no datasets, as before.
 */
export function withContractFacts(h: ConnectorHandshake, logger: Logger): ConnectorHandshake {
  if (h.contractFacts) return h;
  const log = logger.child({ connectorId: h.connectorId, correlationId: h.correlationId });
  try {
    return { ...h, contractFacts: carriedContractFacts(null, h.spec, log) };
  } catch {
    return h;
  }
}

export function lineageHandlers(deps: { transport: LineageTransport; settings: LineageSettings; logger: Logger }): Handlers {
  const open = new Map<string, Facts>();
  const facts = (id: string): Facts => {
    let f = open.get(id);
    if (!f) {
      f = {};
      open.set(id, f);
      if (open.size > MAX_OPEN) open.delete(open.keys().next().value!);
    }
    return f;
  };
  return {
    'connector.handshake': async (input) => {
      const e = withContractFacts(input, deps.logger);
      facts(e.correlationId).handshake = e;
      await deps.transport.emit(startEvent(e, deps.settings));
    },
    'connector.schema.checked': async (e) => {
      facts(e.correlationId).schema = e;
    },
    'connector.credentials.audited': async (e) => {
      facts(e.correlationId).credentials = e;
    },
    'connector.validated': async (e) => {
      const f = open.get(e.correlationId) ?? {};
      await deps.transport.emit(finishEvent(e, f, deps.settings));
      open.delete(e.correlationId);
      deps.logger.debug({ connectorId: e.connectorId, correlationId: e.correlationId, status: e.status }, 'lineage run finished');
    },
  };
}
