// The contract between the pipeline and protocol analyzers: what a dissector is told (ordered
// bytes per direction, or datagrams) and what it reports back (operations, asset facts, anomalies,
// confirmation or violation of the protocol). Registration is data, see `defineProtocol`.

/** Access classes that policy works with (DESIGN.md, Operation). */
export type AccessClass = 'read' | 'write' | 'program' | 'control' | 'diagnostic' | 'file' | 'discovery' | 'other';

/** Direction of bytes within a flow: 0 = client → server (requests), 1 = server → client. */
export type Direction = 0 | 1;

/** One industrial request (with its response, where paired). */
export interface OperationEvent {
  /** `protocol.operation` in snake_case, e.g. `modbus.read_holding_registers`. */
  readonly name: string;
  readonly protocol: string;
  /** Raw code on the wire beside its name (function code, service id, type id). */
  readonly code: number;
  readonly access: AccessClass;
  readonly tsMicros: number;
  /** Unit / slave / station id where the protocol has one. */
  readonly unit?: number;
  /** First address and count of items addressed (registers, coils, points). */
  readonly address?: number;
  readonly quantity?: number;
  /** Address space the range belongs to, e.g. `holding_register`, `coil`. */
  readonly addressSpace?: string;
  /** Values written (bounded), where the protocol carries them. */
  readonly values?: readonly number[];
  /** Set when the response was an exception/error; the protocol's code. */
  readonly exception?: number;
  /** True when a response was seen for this request. */
  readonly responded: boolean;
}

/** Facts about the devices at either end of a flow, learnt from the bytes. */
export type AssetFact =
  | {
      readonly kind: 'name';
      readonly name: string;
      /** Where it came from: `dhcp`, `dns`, `nbns`, `lldp`, or a protocol name. */
      readonly source: string;
      /** Which address the name belongs to: an IPv4/IPv6 text address or a MAC number. */
      readonly ip?: string;
      readonly mac?: number;
    }
  | {
      readonly kind: 'identity';
      /** The side of the flow the identity belongs to (0 = client, 1 = server). */
      readonly side: Direction;
      readonly protocol: string;
      readonly vendor?: string;
      readonly product?: string;
      readonly productCode?: string;
      readonly model?: string;
      readonly firmware?: string;
      readonly serial?: string;
      readonly extra?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'dhcp';
      readonly mac: number;
      readonly hostname?: string;
      readonly vendorClass?: string;
      readonly parameterRequestList?: readonly number[];
      readonly requestedIp?: string;
      readonly assignedIp?: string;
    };

export interface AnalyzerContext {
  /** One request (with its response). The context reads the event during the call and keeps none of it. */
  operation(op: OperationEvent): void;
  fact(fact: AssetFact): void;
  /** A recoverable oddity on an otherwise valid record ("weird"); code like `modbus.bad_length`. */
  anomaly(code: string): void;
  /** The first complete valid PDU: the flow is this protocol. */
  confirm(): void;
  /** These bytes are not this protocol: the analyzer is detached from the flow. */
  violate(code: string): void;
  /**
   * The bytes are a sibling protocol the same analyzer handles (MMS or S7comm-plus on ISO-TSAP port
   * 102): once confirmed, the flow is named `protocol` instead of the definition's name.
   */
  readonly rename?: ((protocol: string) => void) | undefined;
  /**
   * One PDU was decoded (its raw function/service code). Optional hook for per-packet traces and
   * differential tests against tshark; the pipeline leaves it unset on the fast path.
   */
  readonly pdu?: ((dir: Direction, code: number) => void) | undefined;
}

export interface StreamAnalyzer {
  /**
   * Ordered bytes for one direction (TCP) or one datagram (UDP). The bytes are only valid during
   * the call: an analyzer that keeps any of them must copy.
   */
  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void;
  /**
   * Optional form of `data` for the bytes `buf[off, off + len)`, so the packet path need not make a
   * view per segment; same meaning and the same lifetime rule.
   */
  dataAt?(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void;
  /** Bytes were lost in this direction (capture drop or buffer bound); resynchronise. */
  gap(dir: Direction, lostBytes: number): void;
  /** The flow ended or was evicted: flush pending state (unanswered requests). */
  end(): void;
}

export interface ProtocolDefinition {
  readonly name: string;
  readonly transport: 'tcp' | 'udp';
  /** Well-known server ports; they only suggest. A flow is confirmed by a valid PDU. */
  readonly ports: readonly number[];
  /** Cheap check on the first bytes a client sent; false means "not mine". */
  readonly probe?: (bytes: Uint8Array, dir: Direction) => boolean;
  readonly createAnalyzer: (ctx: AnalyzerContext) => StreamAnalyzer;
}

export function defineProtocol(def: ProtocolDefinition): ProtocolDefinition {
  return Object.freeze(def);
}

/**
 * A protocol carried directly in Ethernet frames (Profinet DCP, IEC 61850 GOOSE, ...). The pipeline
 * keeps one analyzer per (source MAC, destination MAC or group, ethertype) communication and hands
 * it each frame's payload after the ethertype (and VLAN tags) as one datagram, direction 0 (the
 * sender is the client side of that communication; identity facts with `side: 0` describe the
 * sender, `side: 1` the destination).
 */
export interface L2ProtocolDefinition {
  readonly name: string;
  readonly etherTypes: readonly number[];
  readonly createAnalyzer: (ctx: AnalyzerContext) => StreamAnalyzer;
}

export function defineL2Protocol(def: L2ProtocolDefinition): L2ProtocolDefinition {
  return Object.freeze(def);
}
