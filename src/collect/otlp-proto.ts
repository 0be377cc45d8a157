/**
 * OTLP/HTTP protobuf bodies, decoded into the same shape as OTLP/HTTP JSON (camelCase fields, 64-bit integers as
 * strings), so one reader serves both encodings. The message definitions are the parts of opentelemetry-proto
 * (v1: collector/metrics, collector/trace, metrics, trace, common, resource) that srvlens reads; field numbers are
 * the protocol's, and fields we do not list are skipped by the decoder as unknown fields, never misread.
 */
import protobuf from 'protobufjs';

const kv = { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } };
const anyValue = {
  oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
  fields: {
    stringValue: { type: 'string', id: 1 },
    boolValue: { type: 'bool', id: 2 },
    intValue: { type: 'int64', id: 3 },
    doubleValue: { type: 'double', id: 4 },
    arrayValue: { type: 'ArrayValue', id: 5 },
    kvlistValue: { type: 'KeyValueList', id: 6 },
    bytesValue: { type: 'bytes', id: 7 },
  },
};
const attributes = (id: number) => ({ rule: 'repeated', type: 'KeyValue', id });

const descriptor = {
  nested: {
    KeyValue: kv,
    AnyValue: anyValue,
    ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
    KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    Resource: { fields: { attributes: attributes(1), droppedAttributesCount: { type: 'uint32', id: 2 } } },
    InstrumentationScope: { fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 }, attributes: attributes(3) } },
    // Metrics.
    ExportMetricsServiceRequest: { fields: { resourceMetrics: { rule: 'repeated', type: 'ResourceMetrics', id: 1 } } },
    ResourceMetrics: { fields: { resource: { type: 'Resource', id: 1 }, scopeMetrics: { rule: 'repeated', type: 'ScopeMetrics', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
    ScopeMetrics: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, metrics: { rule: 'repeated', type: 'Metric', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
    Metric: {
      oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram'] } },
      fields: {
        name: { type: 'string', id: 1 },
        description: { type: 'string', id: 2 },
        unit: { type: 'string', id: 3 },
        gauge: { type: 'Gauge', id: 5 },
        sum: { type: 'Sum', id: 7 },
        histogram: { type: 'Histogram', id: 9 },
        exponentialHistogram: { type: 'ExponentialHistogram', id: 10 },
      },
    },
    Gauge: { fields: { dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 } } },
    Sum: { fields: { dataPoints: { rule: 'repeated', type: 'NumberDataPoint', id: 1 }, aggregationTemporality: { type: 'int32', id: 2 }, isMonotonic: { type: 'bool', id: 3 } } },
    Histogram: { fields: { dataPoints: { rule: 'repeated', type: 'HistogramDataPoint', id: 1 }, aggregationTemporality: { type: 'int32', id: 2 } } },
    ExponentialHistogram: { fields: { dataPoints: { rule: 'repeated', type: 'ExponentialHistogramDataPoint', id: 1 }, aggregationTemporality: { type: 'int32', id: 2 } } },
    NumberDataPoint: {
      oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
      fields: {
        attributes: attributes(7),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        asDouble: { type: 'double', id: 4 },
        asInt: { type: 'sfixed64', id: 6 },
        flags: { type: 'uint32', id: 8 },
      },
    },
    HistogramDataPoint: {
      fields: {
        attributes: attributes(9),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: { type: 'double', id: 5 },
        bucketCounts: { rule: 'repeated', type: 'fixed64', id: 6 },
        explicitBounds: { rule: 'repeated', type: 'double', id: 7 },
        flags: { type: 'uint32', id: 10 },
        min: { type: 'double', id: 11 },
        max: { type: 'double', id: 12 },
      },
    },
    ExponentialHistogramDataPoint: {
      fields: {
        attributes: attributes(1),
        startTimeUnixNano: { type: 'fixed64', id: 2 },
        timeUnixNano: { type: 'fixed64', id: 3 },
        count: { type: 'fixed64', id: 4 },
        sum: { type: 'double', id: 5 },
        scale: { type: 'sint32', id: 6 },
        zeroCount: { type: 'fixed64', id: 7 },
        positive: { type: 'Buckets', id: 8 },
        negative: { type: 'Buckets', id: 9 },
        flags: { type: 'uint32', id: 10 },
        min: { type: 'double', id: 12 },
        max: { type: 'double', id: 13 },
        zeroThreshold: { type: 'double', id: 14 },
      },
    },
    Buckets: { fields: { offset: { type: 'sint32', id: 1 }, bucketCounts: { rule: 'repeated', type: 'uint64', id: 2 } } },
    // Traces.
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: { fields: { resource: { type: 'Resource', id: 1 }, scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
    ScopeSpans: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, spans: { rule: 'repeated', type: 'Span', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        traceState: { type: 'string', id: 3 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
        endTimeUnixNano: { type: 'fixed64', id: 8 },
        attributes: attributes(9),
        status: { type: 'Status', id: 15 },
      },
    },
    Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const MetricsRequest = root.lookupType('ExportMetricsServiceRequest');
const TraceRequest = root.lookupType('ExportTraceServiceRequest');
/** 64-bit integers as decimal strings and ids as hex, as OTLP JSON writes them. */
const AS_JSON: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true, oneofs: false };

function hexIds(spans: Record<string, unknown>[]): void {
  for (const s of spans) {
    for (const k of ['traceId', 'spanId', 'parentSpanId']) {
      if (typeof s[k] === 'string') s[k] = Buffer.from(s[k] as string, 'base64').toString('hex');
    }
  }
}

/**
 * Field numbers from an export down to its items: request -> resource -> scope -> item lists. Metrics' items are
 * the data points of gauge (5), sum (7), histogram (9) and exponential histogram (10), each at field 1.
 */
const METRIC_POINT_PATH: readonly (readonly number[])[] = [[1], [2], [2], [5, 7, 9, 10], [1]];
const SPAN_PATH: readonly (readonly number[])[] = [[1], [2], [2]];

/**
 * Items in a protobuf export, counted on the wire without decoding it: decoding 10^6 points takes ~500 MB of
 * objects before their number can be checked. Throws as decode would on bytes that are no protobuf.
 */
export function countProtoItems(body: Uint8Array, metrics: boolean): number {
  return countAt(protobuf.Reader.create(body), body.length, metrics ? METRIC_POINT_PATH : SPAN_PATH, 0);
}

function countAt(reader: protobuf.Reader, end: number, path: readonly (readonly number[])[], depth: number): number {
  let count = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2 && path[depth].includes(field)) {
      const length = reader.uint32();
      const stop = reader.pos + length;
      if (stop > end) throw new Error(`a field of ${length} bytes runs past the end of its message`);
      if (depth === path.length - 1) {
        count++;
        reader.pos = stop;
      } else count += countAt(reader, stop, path, depth + 1);
    } else reader.skipType(wire);
  }
  return count;
}

export function decodeMetricsProto(body: Uint8Array): Record<string, unknown> {
  return MetricsRequest.toObject(MetricsRequest.decode(body), AS_JSON);
}

export function decodeTracesProto(body: Uint8Array): Record<string, unknown> {
  const out = TraceRequest.toObject(TraceRequest.decode(body), AS_JSON) as { resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] };
  for (const rs of out.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) hexIds(ss.spans ?? []);
  return out;
}
