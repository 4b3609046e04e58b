// What the ISO-on-TCP demultiplexer (index.ts) and the application sessions it feeds (S7comm,
// S7comm-plus, MMS) tell each other: whole TSDUs in, confirmation of the flow out.

import type { AnalyzerContext, Direction } from '../_core/types.ts';

/** Handed to an application session by the demultiplexer. */
export interface IsoLink {
  readonly ctx: AnalyzerContext;
  /** A request was answered by a valid response: the flow is confirmed (once) as this application. */
  answered(): void;
  /**
   * One application PDU decoded without error. A second one confirms the flow too, so traffic that
   * is only pushed (reports, notifications) or seen one way is named as well.
   */
  decoded(): void;
}

/** An application session fed with reassembled TSDUs of one flow. */
export interface TsduHandler {
  /** One whole TSDU; the bytes are only valid during the call. */
  tsdu(dir: Direction, bytes: Uint8Array, tsMicros: number): void;
  /**
   * Optional fast form of `tsdu` for the TSDU `buf[off, off + len)`, so the common PDU needs no
   * view: true when it was handled, false (having done nothing) to have it sent through `tsdu`.
   */
  tsduAt?(dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): boolean;
  /** Bytes were lost in this direction. */
  gap(dir: Direction): void;
  /** End of flow: report requests still waiting as unanswered. */
  end(): void;
}
