// Default bounds for every table and buffer on the packet path (DESIGN principle 2). All can be
// overridden through AnalyzeOptions; none is unbounded.

export const LIMITS = {
  /** Largest capture record accepted; pcapng and libpcap use 262144 as the maximum snaplen. */
  maxRecordBytes: 262_144 * 4,
  /** Flows kept at once; the least recently seen is evicted (and counted) past this. */
  maxFlows: 200_000,
  /** Flow idle timeout (µs): UDP and TCP without a FIN/RST. */
  flowIdleMicros: 600_000_000,
  /** Absolute flow lifetime (µs) before a record is closed and a new one started. */
  flowMaxMicros: 86_400_000_000,
  /** Out-of-order bytes buffered per TCP direction before a gap is declared. */
  tcpMaxBufferedBytes: 256 * 1024,
  /** Out-of-order segments buffered per TCP direction. */
  tcpMaxBufferedSegments: 64,
  /** IPv4 fragment reassembly: datagrams in progress, bytes per datagram, timeout (µs). */
  ipFragMaxDatagrams: 1024,
  ipFragMaxBytes: 65_535,
  ipFragTimeoutMicros: 30_000_000,
  /** Outstanding request/response pairs per flow (Modbus transaction ids etc.). */
  pendingRequestsPerFlow: 256,
  /** Assets, names per asset, IPs per asset. */
  maxAssets: 100_000,
  maxNamesPerAsset: 16,
  maxIpsPerAsset: 64,
  /** Distinct IPs behind one MAC before it is treated as a router/gateway. */
  routerMacMinIps: 3,
  /** Communications kept; past this new ones are counted as dropped. */
  maxCommunications: 500_000,
  /** Distinct operations per communication. */
  maxOperationsPerCommunication: 512,
} as const;

export type Limits = { -readonly [K in keyof typeof LIMITS]: number };
