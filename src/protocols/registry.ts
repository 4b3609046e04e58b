// The protocols PlantGuard dissects on TCP/UDP, as data: the flow table picks an analyzer by the
// server port, and the analyzer confirms or rejects the protocol from the bytes.

import type { L2ProtocolDefinition, ProtocolDefinition } from './_core/types.ts';
import { bacnetEthernetProtocol, bacnetProtocol } from './bacnet/index.ts';
import { dhcpProtocol } from './dhcp/index.ts';
import { dnp3Protocol, dnp3UdpProtocol } from './dnp3/index.ts';
import { dnsProtocol } from './dns/index.ts';
import { enipIoProtocol, enipProtocol, enipUdpProtocol } from './enip/index.ts';
import { gooseProtocol } from './goose/index.ts';
import { iec104Protocol } from './iec104/index.ts';
import { modbusProtocol } from './modbus/index.ts';
import { mqttProtocol } from './mqtt/index.ts';
import { nbnsProtocol } from './nbns/index.ts';
import { opcuaProtocol } from './opcua/index.ts';
import { s7commProtocol } from './s7comm/index.ts';
import { profinetProtocol } from './profinet/index.ts';

export const PROTOCOLS: readonly ProtocolDefinition[] = [
  modbusProtocol,
  dnp3Protocol,
  dnp3UdpProtocol,
  iec104Protocol,
  s7commProtocol,
  enipProtocol,
  enipUdpProtocol,
  enipIoProtocol,
  bacnetProtocol,
  opcuaProtocol,
  mqttProtocol,
  dhcpProtocol,
  dnsProtocol,
  nbnsProtocol,
];

/** Protocols carried directly in Ethernet frames, by ethertype. */
export const L2_PROTOCOLS: readonly L2ProtocolDefinition[] = [profinetProtocol, gooseProtocol, bacnetEthernetProtocol];
