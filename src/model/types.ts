// The analysis document: the model of one site as `plantguard analyze --format json` writes it and
// as the store persists it. Field names are part of the published JSON Schema (docs/schema).

import type { AccessClass } from '../protocols/_core/types.ts';

export const SCHEMA_VERSION = '1.0';

export interface CaptureSummary {
  files: string[];
  packets: number;
  /** Sum of original (on-the-wire) frame lengths. */
  bytes: number;
  /** ISO 8601 UTC with microseconds; null when no packet was read. */
  start: string | null;
  end: string | null;
  /** LINKTYPE_* values with their names. */
  linkTypes: { value: number; name: string; packets: number; supported: boolean }[];
  /** True when any input ended mid-record or stopped on a bad record. */
  truncated: boolean;
  issues: { file: string; code: string; message: string }[];
}

export interface AssetIdentity {
  protocol: string;
  vendor?: string;
  product?: string;
  productCode?: string;
  model?: string;
  firmware?: string;
  serial?: string;
  extra?: Record<string, string>;
}

export interface AssetName {
  name: string;
  source: string;
}

export type AssetRole =
  | 'plc'
  | 'rtu'
  | 'ied'
  | 'hmi'
  | 'engineering_workstation'
  | 'historian'
  | 'opc_server'
  | 'scada_server'
  | 'network_device'
  | 'it_host'
  | 'unknown';

/** Purdue reference model level; 3.5 is the industrial DMZ. */
export type PurdueLevel = 0 | 1 | 2 | 3 | 3.5 | 4 | 5;

export type Criticality = 'high' | 'medium' | 'low';

/** Who decided a classification: inference from traffic, or a person (never overwritten by inference). */
export type DecisionSource = 'inferred' | 'person';

export interface Asset {
  id: string;
  /** `device` for one device; `router` when a MAC carried many IPs (a gateway, not one host). */
  kind: 'device' | 'router';
  macs: string[];
  ips: string[];
  vendor: string | null;
  names: AssetName[];
  vlans: number[];
  role: AssetRole;
  /** 0–1: how sure the inference is (1 when a person set the role). */
  roleConfidence?: number;
  roleSource?: DecisionSource;
  roleEvidence: string[];
  /** Purdue level with the reasoning; null when there is not enough evidence. */
  level?: { value: PurdueLevel | null; source: DecisionSource; reasons: string[] };
  criticality?: { value: Criticality; source: DecisionSource; reasons: string[] };
  identity: AssetIdentity[];
  /** Protocols this asset served (as server) and used (as client). */
  protocols: { served: string[]; used: string[] };
  dhcp?: { hostname?: string; vendorClass?: string; parameterRequestList?: number[] };
  lldp?: {
    systemName?: string;
    systemDescription?: string;
    capabilities?: string[];
    managementAddresses?: string[];
    portId?: string;
  };
  firstSeen: string;
  lastSeen: string;
  packets: number;
  bytes: number;
}

export interface OperationSummary {
  /** Raw code beside its name (function code, service id). */
  code: number;
  access: AccessClass;
  /** Requests sent client → server. */
  count: number;
  responses: number;
  exceptions: number;
  /** Exception/error codes with counts. */
  exceptionCodes?: Record<string, number>;
  units?: number[];
  /** Merged address ranges per address space: [first, last] inclusive. */
  ranges?: Record<string, [number, number][]>;
  firstSeen: string;
  lastSeen: string;
}

export interface Communication {
  id: string;
  client: string;
  server: string;
  transport: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'ip' | 'ethernet';
  /** Server port (TCP/UDP), ethertype (ethernet), IP protocol number (ip), else 0. */
  port: number;
  protocol: string;
  /** True when a dissector validated the protocol; false when named by port. */
  confirmed: boolean;
  vlans: number[];
  flows: number;
  packets: number;
  bytes: number;
  packetsToServer: number;
  packetsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  firstSeen: string;
  lastSeen: string;
  operations: Record<string, OperationSummary>;
}

/** Broadcast and multicast destinations: not devices, but where a communication may go. */
export interface Group {
  id: string;
  address: string;
  kind: 'broadcast' | 'multicast';
}

export interface ProtocolStat {
  protocol: string;
  packets: number;
  bytes: number;
  communications: number;
}

export interface AnalysisDocument {
  schemaVersion: string;
  generator: { name: 'plantguard'; version: string };
  capture: CaptureSummary;
  assets: Asset[];
  groups: Group[];
  communications: Communication[];
  protocols: ProtocolStat[];
  /** Counts by dotted anomaly code (decoders, capture readers, flow table bounds). */
  anomalies: Record<string, number>;
  stats: {
    flows: number;
    flowsEvicted: number;
    flowsTimedOut: number;
    tcpGaps: number;
    tcpGapBytes: number;
    ipFragmentsReassembled: number;
    communicationsDropped: number;
    assetsDropped: number;
    durationMs: number;
  };
}

/** A model with nothing in it: the start of a store, or of a merge. */
export function emptyDocument(): AnalysisDocument {
  return {
    schemaVersion: SCHEMA_VERSION,
    generator: { name: 'plantguard', version: '' },
    capture: { files: [], packets: 0, bytes: 0, start: null, end: null, linkTypes: [], truncated: false, issues: [] },
    assets: [],
    groups: [],
    communications: [],
    protocols: [],
    anomalies: {},
    stats: {
      flows: 0,
      flowsEvicted: 0,
      flowsTimedOut: 0,
      tcpGaps: 0,
      tcpGapBytes: 0,
      ipFragmentsReassembled: 0,
      communicationsDropped: 0,
      assetsDropped: 0,
      durationMs: 0,
    },
  };
}
