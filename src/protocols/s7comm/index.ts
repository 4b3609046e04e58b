// S7comm and S7comm-plus over ISO-on-TCP (port 102): the definitions that name them, and the
// decoders. Both are analysed by the shared port-102 demultiplexer in ../iso/index.ts.

import { defineProtocol } from '../_core/types.ts';
import { IsoTsapAnalyzer, isoTsapProtocol } from '../iso/index.ts';

export { decodeS7Pdu, type S7Pdu, type S7Param, type S7Data, type S7Item, type S7DataItem } from './decode.ts';
export { decodeS7PlusFrame, type S7PlusFrame } from './plus.ts';
export { decodeSzlResponse, szlIdentity, type SzlResponse, type SzlIdentity } from './szl.ts';
export { S7Session } from './state.ts';
export { S7PlusSession } from './plus-state.ts';

/**
 * The definition to register for TCP 102 (the same object as `isoTsapProtocol`): its analyzer finds
 * S7comm, S7comm-plus or MMS and renames the flow accordingly.
 */
export const s7commProtocol = isoTsapProtocol;

/**
 * S7comm-plus by name, with no port: not to be registered on 102 (that is `s7commProtocol`); for
 * running the same analyzer on another port.
 */
export const s7commPlusProtocol = defineProtocol({
  name: 's7comm_plus',
  transport: 'tcp',
  ports: [],
  createAnalyzer: (ctx) => new IsoTsapAnalyzer(ctx),
});
