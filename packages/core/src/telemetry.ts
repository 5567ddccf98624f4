import { context, propagation, trace, type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * Keeps the last `capacity` finished spans: enough for a test to assert one trace per attempt,
 * and a fixed amount of memory in a service that runs for months (an unbounded in-memory
 * exporter grows by every message a service ever handles).
 */
export class RecentSpans implements SpanExporter {
  private spans: ReadableSpan[] = [];
  constructor(readonly capacity = 2_000) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.spans.push(...spans);
    if (this.spans.length > this.capacity) this.spans = this.spans.slice(-this.capacity);
    done({ code: ExportResultCode.SUCCESS });
  }
  finished(): ReadableSpan[] {
    return [...this.spans];
  }
  reset(): void {
    this.spans = [];
  }
  shutdown(): Promise<void> {
    this.reset();
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface TelemetryOptions {
  /** `service.name` on every span; default OTEL_SERVICE_NAME, then `connector-preflight`. */
  serviceName?: string;
  serviceVersion?: string;
  extraProcessors?: SpanProcessor[];
  /** Where OTEL_* settings are read from; default process.env. */
  env?: Record<string, string | undefined>;
}

let provider: BasicTracerProvider | undefined;
let recent: RecentSpans | undefined;

/**
 * Installs the global tracer provider once per process. The last spans stay in memory (bounded)
 * for tests; with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set, spans
 * are also batched to that OTLP/HTTP endpoint — a Collector, Jaeger, Tempo — the standard
 * OpenTelemetry variables, so nothing here is specific to one backend. OTEL_TRACES_EXPORTER=none
 * turns the export off.
 */
export function initTelemetry(options: TelemetryOptions = {}): void {
  if (provider) return;
  const env = options.env ?? process.env;
  recent = new RecentSpans(Number(env['PREFLIGHT_RECENT_SPANS'] ?? 2_000));
  const processors: SpanProcessor[] = [new SimpleSpanProcessor(recent), ...(options.extraProcessors ?? [])];
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? (env['OTEL_EXPORTER_OTLP_ENDPOINT'] ? `${env['OTEL_EXPORTER_OTLP_ENDPOINT'].replace(/\/$/, '')}/v1/traces` : undefined);
  if (endpoint && env['OTEL_TRACES_EXPORTER'] !== 'none') {
    // A backend that is down must cost neither memory nor a crash: the batch queue is bounded and drops.
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint, timeoutMillis: 5_000 }), { maxQueueSize: 4_096, scheduledDelayMillis: 1_000 }));
  }
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? env['OTEL_SERVICE_NAME'] ?? 'connector-preflight',
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
    spanProcessors: processors,
  });
  const cm = new AsyncLocalStorageContextManager();
  cm.enable();
  context.setGlobalContextManager(cm);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
}

/** Sends what the exporters hold; a stopping service calls it so its last spans are not lost. */
export async function flushTelemetry(): Promise<void> {
  await provider?.forceFlush();
}

/** The most recent finished spans of this process (at most PREFLIGHT_RECENT_SPANS). */
export function finishedSpans(): ReadableSpan[] {
  return recent?.finished() ?? [];
}

export function resetSpans(): void {
  recent?.reset();
}

/** Extracts a W3C context from a `traceparent` value (a Kafka header or an envelope field). */
export function contextFromTraceparent(traceparent: string | undefined | null): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** The `traceparent` of the active span, or of `ctx` when given. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier['traceparent'];
}

/** Runs `fn` in a span that ends (with error status if it throws) when `fn` settles. */
export async function withSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const tracer = trace.getTracer('connector-preflight');
  return tracer.startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      span.end();
    }
  });
}
