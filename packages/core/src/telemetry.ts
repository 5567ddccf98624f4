import { context, propagation, trace, type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

let installed = false;
let memoryExporter: InMemorySpanExporter | undefined;

/**
 * Installs the global tracer provider once per process. Spans are kept in memory (bounded by the
 * exporter's reset) so tests can assert one trace per attempt; an OTLP exporter can be added with
 * `extraProcessors` without touching services.
 */
export function initTelemetry(options: { extraProcessors?: SpanProcessor[] } = {}): void {
  if (installed) return;
  installed = true;
  memoryExporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(memoryExporter), ...(options.extraProcessors ?? [])],
  });
  const cm = new AsyncLocalStorageContextManager();
  cm.enable();
  context.setGlobalContextManager(cm);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
}

export function finishedSpans(): ReturnType<InMemorySpanExporter['getFinishedSpans']> {
  return memoryExporter?.getFinishedSpans() ?? [];
}

export function resetSpans(): void {
  memoryExporter?.reset();
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
