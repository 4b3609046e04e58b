// IEC 61850 GOOSE layer-2 analyzer (ethertypes 0x88B8 GOOSE, 0x88B9 GSE management; IEC 61850-8-1
// Annex C): each message is a publish operation, each stNum change a state change, and the
// gocbRef/datSet/goID describe the publishing IED.

import {
  defineL2Protocol,
  type AnalyzerContext,
  type AssetFact,
  type Direction,
  type OperationEvent,
  type StreamAnalyzer,
} from '../_core/types.ts';
import {
  GOOSE_ETHERTYPE,
  GSE_MANAGEMENT_ETHERTYPE,
  LD_INSTANCE_SUFFIX,
  MAX_TRACKED_GOCBS,
  OPERATIONS,
  SIMULATION_BIT,
} from './constants.ts';
import { GooseDecoder } from './decode.ts';

export { decodeGooseFrame, walkGooseData, countGooseElements, berInteger, GooseDecoder } from './decode.ts';
export type { DataCounts, GooseFrame, GooseHeader, GoosePdu, UtcTime } from './decode.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What the analyzer remembers of one control block. */
interface GocbState {
  stNum: number;
  sqNum: number;
  confRev: number;
  datSet: string;
  goID: string;
  appid: number;
}

/** The PDU code reported to `ctx.pdu` for a goosePdu ([APPLICATION 1]); GOOSE has no function code. */
export const GOOSE_PDU_CODE = 1;

/**
 * One GOOSE communication (publisher MAC → multicast group). Every frame is one datagram from the
 * publisher (direction 0).
 *
 * - Each goosePdu is a `goose.publish` operation (access write: it drives the subscribers' state)
 *   with unit = APPID, quantity = numDatSetEntries, addressSpace = datSet and the first simple
 *   values; a stNum different from the last one seen for the gocbRef is also a `goose.state_change`.
 * - Sequence oddities per gocbRef are anomalies: stNum going back (`goose.st_num_regression`),
 *   sqNum going back within a state (`goose.sq_num_regression`), confRev changing
 *   (`goose.conf_rev_changed`). The test/simulation flag is `goose.test_mode` and the Edition 2
 *   header Simulation bit `goose.simulation_bit`, each once per analyzer.
 * - A GSE management PDU is one `goose.gse_management` operation (other), not decoded further.
 * - Before the first valid frame a malformed one violates the protocol (`goose.not_goose`); after
 *   it, it is an anomaly with the decoder's code.
 */
export class GooseAnalyzer implements StreamAnalyzer {
  private readonly ctx: AnalyzerContext;
  private confirmed = false;
  private detached = false;
  private testReported = false;
  private simulationReported = false;
  private readonly gocbs = new Map<string, GocbState>();
  private lastRef = '';
  private lastState: GocbState | undefined = undefined;
  /**
   * Decodes each frame into its fields and remembers the publisher's names and last allData; its
   * fields are the last frame decoded (for traces and the differential test).
   */
  readonly decoder = new GooseDecoder();
  /** The operation records, reused frame after frame (the context keeps none of them). */
  private readonly op: Mutable<OperationEvent> = {
    name: OPERATIONS.publish,
    protocol: 'goose',
    code: GOOSE_PDU_CODE,
    access: 'write',
    tsMicros: 0,
    unit: 0,
    quantity: 0,
    addressSpace: '',
    responded: false,
  };
  private readonly opWithValues: Mutable<OperationEvent> = { ...this.op, values: [] };

  constructor(ctx: AnalyzerContext) {
    this.ctx = ctx;
  }

  data(dir: Direction, bytes: Uint8Array, tsMicros: number): void {
    this.dataAt(dir, bytes, 0, bytes.length, tsMicros);
  }

  dataAt(_dir: Direction, buf: Uint8Array, off: number, len: number, tsMicros: number): void {
    if (this.detached) return;
    const d = this.decoder;
    const code = d.decode(buf, off, len);
    if (code !== '') {
      if (this.confirmed) this.ctx.anomaly(code);
      else {
        this.detached = true;
        this.ctx.violate('goose.not_goose');
      }
      return;
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm();
    }
    const anomalies = d.anomalies;
    for (let i = 0; i < anomalies.length; i++) this.ctx.anomaly(anomalies[i]!);
    if (d.kind === 'gse_management') {
      this.ctx.operation({
        name: OPERATIONS.gseManagement,
        protocol: 'goose',
        code: 0,
        access: 'other',
        tsMicros,
        unit: d.appid,
        responded: false,
      });
      return;
    }
    this.ctx.pdu?.(0, GOOSE_PDU_CODE);
    this.goose(d, tsMicros);
  }

  gap(): void {
    // Datagrams: nothing to resynchronise.
  }

  end(): void {
    // Publications are reported as they come; nothing is pending.
  }

  private goose(d: GooseDecoder, ts: number): void {
    if ((d.reserved1 & SIMULATION_BIT) !== 0 && !this.simulationReported) {
      this.simulationReported = true;
      this.ctx.anomaly('goose.simulation_bit');
    }
    if (d.simulation && !this.testReported) {
      this.testReported = true;
      this.ctx.anomaly('goose.test_mode');
    }
    const op = d.values.length > 0 ? this.opWithValues : this.op;
    op.name = OPERATIONS.publish;
    op.tsMicros = ts;
    op.unit = d.appid;
    op.quantity = d.numDatSetEntries;
    op.addressSpace = d.datSet;
    if (op === this.opWithValues) op.values = d.values;
    this.ctx.operation(op);
    // A publisher sends one control block: the last one's state is looked up by identity first
    // (the decoder hands back the same string while the bytes repeat).
    const s = d.gocbRef === this.lastRef ? this.lastState : this.gocbs.get(d.gocbRef);
    if (s === undefined) {
      if (this.gocbs.size >= MAX_TRACKED_GOCBS) {
        const oldest = this.gocbs.keys().next();
        if (oldest.done !== true) {
          this.gocbs.delete(oldest.value);
          if (oldest.value === this.lastRef) this.lastState = undefined;
        }
      }
      const state: GocbState = {
        stNum: d.stNum,
        sqNum: d.sqNum,
        confRev: d.confRev,
        datSet: d.datSet,
        goID: d.goID,
        appid: d.appid,
      };
      this.gocbs.set(d.gocbRef, state);
      this.lastRef = d.gocbRef;
      this.lastState = state;
      this.identity(d);
      return;
    }
    this.lastRef = d.gocbRef;
    this.lastState = s;
    if (d.stNum !== s.stNum) {
      // stNum wraps from 0xFFFFFFFF to 1 (IEC 61850-7-2 §18.2.3.5): not a regression.
      if (d.stNum < s.stNum && !(s.stNum > 0xffff0000 && d.stNum < 0x10000))
        this.ctx.anomaly('goose.st_num_regression');
      op.name = OPERATIONS.stateChange;
      this.ctx.operation(op);
    } else if (d.sqNum < s.sqNum && !(s.sqNum > 0xffff0000 && d.sqNum < 0x10000)) {
      this.ctx.anomaly('goose.sq_num_regression');
    }
    if (d.confRev !== s.confRev) this.ctx.anomaly('goose.conf_rev_changed');
    const changed = d.confRev !== s.confRev || d.datSet !== s.datSet || d.goID !== s.goID || d.appid !== s.appid;
    s.stNum = d.stNum;
    s.sqNum = d.sqNum;
    if (changed) {
      s.confRev = d.confRev;
      s.datSet = d.datSet;
      s.goID = d.goID;
      s.appid = d.appid;
      this.identity(d);
    }
  }

  /**
   * The publishing IED, as far as the control block tells: gocbRef, datSet, goID, APPID and
   * confRev in `extra`, plus the logical device (the gocbRef before '/') and, when the logical
   * device ends in a known instance suffix (LD0, Master, System...), the IED name before it.
   */
  private identity(d: GooseDecoder): void {
    const extra: Record<string, string> = {
      gocbRef: d.gocbRef,
      datSet: d.datSet,
      appid: `0x${d.appid.toString(16).padStart(4, '0')}`,
      confRev: String(d.confRev),
    };
    if (d.hasGoID) extra.goID = d.goID;
    const slash = d.gocbRef.indexOf('/');
    if (slash > 0) {
      const ld = d.gocbRef.slice(0, slash);
      extra.logicalDevice = ld;
      const m = LD_INSTANCE_SUFFIX.exec(ld);
      if (m?.[1] !== undefined) extra.iedName = m[1];
    }
    const fact: AssetFact = { kind: 'identity', side: 0, protocol: 'goose', extra };
    this.ctx.fact(fact);
  }
}

export const gooseProtocol = defineL2Protocol({
  name: 'goose',
  etherTypes: [GOOSE_ETHERTYPE, GSE_MANAGEMENT_ETHERTYPE],
  createAnalyzer: (ctx) => new GooseAnalyzer(ctx),
});
