// The analyzer shape shared by datagram protocols (DHCP, DNS, NBNS, ...): decode each datagram; the
// first valid one confirms the flow; garbage before that is a violation, after it an anomaly.

import type { Decoded } from '../../core/decoded.ts';
import type { AnalyzerContext, Direction, StreamAnalyzer } from './types.ts';

export interface DatagramProtocol<T> {
  decode(bytes: Uint8Array): Decoded<T>;
  /** Anomaly code for a datagram cut short (`incomplete`). */
  readonly truncatedCode: string;
  /** Violation code when the first datagram is not this protocol; default: the decoder's code. */
  readonly violationCode?: string;
  /** What a valid datagram tells: facts and further anomalies go to `ctx`. */
  onMessage(ctx: AnalyzerContext, value: T, dir: Direction, tsMicros: number): void;
}

export function createDatagramAnalyzer<T>(ctx: AnalyzerContext, p: DatagramProtocol<T>): StreamAnalyzer {
  let confirmed = false;
  let detached = false;
  return {
    data(dir, bytes, tsMicros) {
      if (detached) return;
      const d = p.decode(bytes);
      if (d.kind !== 'ok') {
        const code = d.kind === 'malformed' ? d.code : p.truncatedCode;
        if (confirmed) ctx.anomaly(code);
        else {
          detached = true;
          ctx.violate(p.violationCode ?? code);
        }
        return;
      }
      if (!confirmed) {
        confirmed = true;
        ctx.confirm();
      }
      for (const a of d.anomalies) ctx.anomaly(a);
      p.onMessage(ctx, d.value, dir, tsMicros);
    },
    gap() {
      // Datagrams: nothing to resynchronise.
    },
    end() {
      // No per-flow state to flush.
    },
  };
}
