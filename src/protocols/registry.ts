// The protocols PlantGuard dissects on TCP/UDP, as data: the flow table picks an analyzer by the
// server port, and the analyzer confirms or rejects the protocol from the bytes.

import type { L2ProtocolDefinition, ProtocolDefinition } from './_core/types.ts';
import { dhcpProtocol } from './dhcp/index.ts';
import { dnsProtocol } from './dns/index.ts';
import { gooseProtocol } from './goose/index.ts';
import { modbusProtocol } from './modbus/index.ts';
import { nbnsProtocol } from './nbns/index.ts';
import { profinetProtocol } from './profinet/index.ts';

export const PROTOCOLS: readonly ProtocolDefinition[] = [modbusProtocol, dhcpProtocol, dnsProtocol, nbnsProtocol];

/** Protocols carried directly in Ethernet frames, by ethertype. */
export const L2_PROTOCOLS: readonly L2ProtocolDefinition[] = [profinetProtocol, gooseProtocol];
