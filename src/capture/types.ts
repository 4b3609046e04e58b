// What capture readers produce: batches of packet records in struct-of-arrays form, so the packet
// path allocates per batch, not per packet. Record bytes are subarrays of `data`: a consumer that
// keeps bytes beyond the call must copy them.

export interface PacketBatch {
  /** Number of records in this batch. */
  readonly count: number;
  readonly data: Uint8Array;
  /** Start of the record's captured bytes in `data`. */
  readonly offset: Int32Array;
  /** Captured length (bytes present). */
  readonly capLen: Int32Array;
  /** Original length on the wire. */
  readonly origLen: Int32Array;
  /** Timestamp in microseconds since the Unix epoch (nanosecond files are rounded down). */
  readonly tsMicros: Float64Array;
  /** LINKTYPE_* value of the record (pcapng interfaces may differ). */
  readonly linkType: Int32Array;
}

export type CaptureFormat = 'pcap' | 'pcap-ns' | 'pcapng';

export interface CaptureIssue {
  /** Stable code: `capture.truncated`, `capture.bad_record_length`, `capture.bad_block`, ... */
  readonly code: string;
  readonly message: string;
  /** Byte offset in the (decompressed) file where it was noticed. */
  readonly offset: number;
}

export interface CaptureStats {
  /** Records delivered so far. */
  packets: number;
  /** Bytes consumed from the source (compressed bytes for gzip files). */
  bytesRead: number;
  /** Sum of captured lengths. */
  capturedBytes: number;
  /** Records whose captured length is below the original length (snaplen). */
  snapTruncatedPackets: number;
  /** True when the file ended in the middle of a record or block. */
  truncated: boolean;
  /** Problems that stopped or affected reading; the packets before them were delivered. */
  readonly issues: CaptureIssue[];
  readonly linkTypes: Set<number>;
  format: CaptureFormat | null;
  gzip: boolean;
}

export interface CaptureSource {
  /** File path, or `-` for standard input. */
  readonly name: string;
  /** Size in bytes when known (for progress); null for stdin. */
  readonly size: number | null;
  readonly stats: CaptureStats;
  batches(): AsyncIterable<PacketBatch>;
}

/** Errors that stop a source before any packet (missing file, not a capture). */
export class CaptureError extends Error {
  readonly code: string;
  readonly file: string;
  constructor(code: string, file: string, message: string) {
    super(message);
    this.name = 'CaptureError';
    this.code = code;
    this.file = file;
  }
}
