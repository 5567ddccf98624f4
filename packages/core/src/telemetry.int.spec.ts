import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { contextFromTraceparent, finishedSpans, flushTelemetry, initTelemetry, resetSpans, withSpan } from './telemetry.js';

interface OtlpBody {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; parentSpanId?: string; attributes: Array<{ key: string }> }> }>;
  }>;
}

// One OTLP/HTTP receiver on loopback, the way a Collector listens on :4318.
const received: Array<{ path: string; contentType: string | undefined; body: OtlpBody }> = [];
const receiver = createServer((req, res) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', () => {
    received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(raw) as OtlpBody });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

// The tracer provider is global per process; vitest runs each spec file in its own worker.
initTelemetry({ serviceName: 'handshake', serviceVersion: '9.9.9', env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, PREFLIGHT_RECENT_SPANS: '50' } });

describe('telemetry', () => {
  it('exports spans over OTLP/HTTP with the service name, continuing a traceparent from Kafka headers', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await withSpan('process connector.handshake', { 'preflight.connector_id': 'c-1' }, async () => {
      await withSpan('connector.discover', {}, async () => undefined);
    }, contextFromTraceparent(traceparent));
    await flushTelemetry();
    const spans = received.filter((r) => r.path === '/v1/traces').flatMap((r) => r.body.resourceSpans);
    expect(received[0]?.contentType).toMatch(/json/);
    const service = spans[0]?.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
    expect(service).toBe('handshake');
    const all = spans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const parent = all.find((s) => s.name === 'process connector.handshake');
    expect(parent?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(parent?.parentSpanId).toBe('00f067aa0ba902b7');
    expect(all.find((s) => s.name === 'connector.discover')?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('keeps a bounded number of recent spans in memory, however many a service makes', async () => {
    resetSpans();
    const tracer = trace.getTracer('t');
    for (let i = 0; i < 500; i++) tracer.startSpan(`s${i}`, {}, context.active()).end();
    const recent = finishedSpans();
    expect(recent).toHaveLength(50);
    expect(recent.at(-1)?.name).toBe('s499');
    await flushTelemetry();
  });
});
