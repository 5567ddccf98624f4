// Where one preflight's time goes, hop by hop: the bench's bus is wrapped so every handler's start
// and end, every publish (call and broker acknowledgement) and every changelog write is stamped
// with performance.now() per correlation id. The services run unchanged; only the bench sees the
// stamps. Medians over the sequential preflights, relative to the registration's publish call.
import type { Bus, EventConsumer } from '@preflight/bus';
import type { ConnectorEvent } from '@preflight/events';
import { fmt, percentile, record, row } from './env.js';

type Marks = Map<string, number>;

export interface HopTracer {
  /** Stamps are kept only while on (the sequential part), so the other parts pay nothing. */
  on: boolean;
  /** Starts a preflight's timeline at its registration's publish call. */
  begin(correlationId: string): void;
  /** Median (and p90) of each mark over the traced preflights, printed and recorded. */
  report(): void;
}

const short: Record<string, string> = {
  handshake: 'hs',
  'schema-validator': 'sv',
  'credential-auditor': 'ca',
  readiness: 'rd',
};

/** Wraps `bus.consumer` (handler start/end) and `bus.producer.publish/send` (call/ack) with stamps. */
export function traceBus(bus: Bus): HopTracer {
  const lines = new Map<string, Marks>();
  const tracer: HopTracer = {
    on: false,
    begin(id) {
      if (this.on) lines.set(id, new Map([['registered.publish', performance.now()]]));
    },
    report() {
      const names = new Map<string, number[]>();
      for (const marks of lines.values()) {
        const t0 = marks.get('registered.publish')!;
        for (const [name, t] of marks) {
          const list = names.get(name) ?? [];
          list.push(t - t0);
          names.set(name, list);
        }
      }
      const rows = [...names].map(([name, ts]) => {
        ts.sort((a, b) => a - b);
        return { name, p50: percentile(ts, 50), p90: percentile(ts, 90), n: ts.length };
      });
      rows.sort((a, b) => a.p50 - b.p50);
      const w = [52, 10, 10, 6];
      console.log(`\none preflight, hop by hop (${lines.size} traced; ms since the registration's publish call)\n`);
      console.log(row(['mark', 'p50', 'p90', 'n'], w));
      for (const r of rows) {
        console.log(row([r.name, fmt(r.p50, 1), fmt(r.p90, 1), r.n], w));
        record(`hop_${r.name.replace(/[^a-z0-9]+/gi, '_')}_p50_ms`, r.p50);
      }
      const n = lines.size || 1;
      const total = [...requests.values()].reduce((a, b) => a + b, 0);
      console.log(`\nKafka requests per traced preflight: ${fmt(total / n, 1)} (by client and API)`);
      for (const [k, v] of [...requests].sort((a, b) => b[1] - a[1])) console.log(row([k, fmt(v / n, 2)], [52, 10]));
      record('single_file_preflight_kafka_requests', total / n);
    },
  };
  // Kafka requests by client and API while tracing: what one preflight costs the broker and the
  // sockets, idle consumers' empty fetches included.
  const requests = new Map<string, number>();
  const countRequest = (who: string, api: string): void => {
    if (tracer.on) requests.set(`${who} ${api}`, (requests.get(`${who} ${api}`) ?? 0) + 1);
  };
  const mark = (id: string, name: string): void => {
    if (!tracer.on) return;
    const marks = lines.get(id);
    // The first stamp of a name is the one kept: a repeated handler start would be a redelivery.
    if (marks && !marks.has(name)) marks.set(name, performance.now());
  };

  const consumer = bus.consumer.bind(bus);
  bus.consumer = (options): EventConsumer => {
    const svc = Object.keys(short).find((s) => options.groupId.endsWith(`.${s}`));
    const who = svc ? short[svc]! : 'watch';
    const handlers = Object.fromEntries(
      Object.entries(options.handlers).map(([type, h]) => [
        type,
        async (e: ConnectorEvent, meta: unknown) => {
          const what = `${who} ${type.replace('connector.', '')}`;
          mark(e.correlationId, `${what}: handler start`);
          try {
            await (h as (e: ConnectorEvent, m: unknown) => Promise<void>)(e, meta);
          } finally {
            mark(e.correlationId, `${what}: handler end`);
          }
        },
      ]),
    );
    const c = consumer({ ...options, handlers });
    c.consumer.on(c.consumer.events.REQUEST, ({ payload }) => countRequest(who, payload.apiName));
    return c;
  };
  const producer = bus.producer;
  producer.producer.on(producer.producer.events.REQUEST, ({ payload }) => countRequest('producer', payload.apiName));
  const publish = producer.publish.bind(producer);
  producer.publish = async (...events) => {
    for (const e of events) mark(e.correlationId, `${e.eventType.replace('connector.', '')}: publish call`);
    await publish(...events);
    for (const e of events) mark(e.correlationId, `${e.eventType.replace('connector.', '')}: publish acked`);
  };
  const send = producer.send.bind(producer);
  const attempts = bus.topics.attempts;
  const writes = new Map<string, number>();
  producer.send = async (topic, messages) => {
    // The readiness changelog: one write per attempt change, keyed by the correlation id.
    const ids = topic === attempts ? messages.map((m) => String(m.key)) : [];
    const tags = ids.map((id) => {
      const n = (writes.get(id) ?? 0) + 1;
      writes.set(id, n);
      return { id, tag: `changelog write ${n}` };
    });
    for (const { id, tag } of tags) mark(id, `${tag}: call`);
    await send(topic, messages);
    for (const { id, tag } of tags) mark(id, `${tag}: acked`);
  };
  return tracer;
}
