// One analysis run: open the inputs, stream their packets in timestamp order through the engine,
// and build the model document. Progress is reported per batch; nothing is held beyond the bounds.

import { mergeByTime, openCaptureSources } from '../capture/open.ts';
import type { CaptureSource } from '../capture/types.ts';
import { LIMITS, type Limits } from '../core/limits.ts';
import { formatTime } from '../core/text.ts';
import { buildModel } from '../model/build.ts';
import { SCHEMA_VERSION, type AnalysisDocument } from '../model/types.ts';
import { linkTypeName, LINKTYPE } from '../protocols/link/packet.ts';
import type { Direction } from '../protocols/_core/types.ts';
import { L2_PROTOCOLS, PROTOCOLS } from '../protocols/registry.ts';
import { Engine, type FlowRecord } from './engine.ts';

export const VERSION = '0.1.0';

export interface Progress {
  bytesRead: number;
  /** Total input bytes when known (files), else null (stdin). */
  bytesTotal: number | null;
  packets: number;
  elapsedMs: number;
}

export interface AnalyzeOptions {
  limits?: Partial<Limits>;
  onProgress?: (p: Progress) => void;
  onWarning?: (message: string) => void;
  /** Per-PDU trace (frame number, protocol, direction, code), for differential tests. */
  trace?: (frame: number, protocol: string, dir: Direction, code: number) => void;
  /** Called with every flow as it ends. */
  onFlow?: (flow: FlowRecord) => void;
}

const SUPPORTED_LINKS = new Set<number>(Object.values(LINKTYPE));

export async function analyzeCaptures(inputs: string[], opts: AnalyzeOptions = {}): Promise<AnalysisDocument> {
  const sources = await openCaptureSources(inputs, opts.onWarning ? { onWarning: opts.onWarning } : {});
  return analyzeSources(sources, opts);
}

export async function analyzeSources(sources: CaptureSource[], opts: AnalyzeOptions = {}): Promise<AnalysisDocument> {
  const limits: Limits = { ...LIMITS, ...opts.limits };
  const t0 = performance.now();
  const engine = new Engine({
    limits,
    protocols: PROTOCOLS,
    l2Protocols: L2_PROTOCOLS,
    trace: opts.trace,
    onFlow: opts.onFlow,
  });
  const total = sources.every((s) => s.size !== null) ? sources.reduce((n, s) => n + (s.size ?? 0), 0) : null;
  let lastReport = 0;
  for await (const batch of mergeByTime(sources)) {
    engine.batch(batch);
    if (opts.onProgress !== undefined) {
      const now = performance.now();
      if (now - lastReport > 100) {
        lastReport = now;
        opts.onProgress({
          bytesRead: sources.reduce((n, s) => n + s.stats.bytesRead, 0),
          bytesTotal: total,
          packets: engine.packets,
          elapsedMs: now - t0,
        });
      }
    }
  }
  engine.finish();
  const model = buildModel(engine.collector, limits);
  const c = engine.collector;
  for (const s of sources) for (const issue of s.stats.issues) c.anomaly(issue.code);
  const linkTypes = [...engine.linkTypePackets]
    .sort((a, b) => a[0] - b[0])
    .map(([value, packets]) => ({ value, name: linkTypeName(value), packets, supported: SUPPORTED_LINKS.has(value) }));
  for (const lt of linkTypes) if (!lt.supported) c.anomaly('capture.unsupported_link_type', lt.packets);
  const doc: AnalysisDocument = {
    schemaVersion: SCHEMA_VERSION,
    generator: { name: 'plantguard', version: VERSION },
    capture: {
      files: sources.map((s) => s.name),
      packets: engine.packets,
      bytes: engine.bytes,
      start: engine.packets > 0 ? formatTime(engine.firstTs) : null,
      end: engine.packets > 0 ? formatTime(engine.lastTs) : null,
      linkTypes,
      truncated: sources.some((s) => s.stats.truncated),
      issues: sources.flatMap((s) => s.stats.issues.map((i) => ({ file: s.name, code: i.code, message: i.message }))),
    },
    assets: model.assets,
    groups: model.groups,
    communications: model.communications,
    protocols: model.protocols,
    anomalies: Object.fromEntries([...c.anomalies].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    stats: {
      flows: engine.flows.created,
      flowsEvicted: engine.flows.evicted,
      flowsTimedOut: engine.flows.timedOut,
      tcpGaps: engine.flows.tcpGaps,
      tcpGapBytes: engine.flows.tcpGapBytes,
      ipFragmentsReassembled: engine.reassembler.counters.reassembled,
      communicationsDropped: c.commsDropped,
      assetsDropped: c.addressesDropped,
      durationMs: Math.round(performance.now() - t0),
    },
  };
  return doc;
}
