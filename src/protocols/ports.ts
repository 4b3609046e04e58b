// Names for well-known ports, used to name a communication when no dissector confirmed its
// protocol ("named by port"). Ports only suggest: the JSON output says whether a name is confirmed.

const TCP: Readonly<Record<number, string>> = {
  20: 'ftp-data', 21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'dns', 80: 'http', 88: 'kerberos',
  102: 's7comm', 110: 'pop3', 111: 'sunrpc', 135: 'msrpc', 139: 'netbios-ssn', 143: 'imap', 389: 'ldap',
  443: 'https', 445: 'smb', 502: 'modbus', 515: 'lpd', 636: 'ldaps', 789: 'redlion', 1089: 'ff-hse',
  1433: 'mssql', 1883: 'mqtt', 1911: 'niagara-fox', 1962: 'pcworx', 2222: 'enip-io', 2404: 'iec104',
  2455: 'codesys', 3306: 'mysql', 3389: 'rdp', 4000: 'emerson-roc', 4840: 'opcua', 4843: 'opcua-tls',
  4911: 'niagara-fox-tls', 5007: 'melsec', 5432: 'postgresql', 5900: 'vnc', 5985: 'winrm', 8080: 'http-alt',
  8443: 'https-alt', 8883: 'mqtt-tls', 9600: 'omron-fins', 18245: 'ge-srtp', 20000: 'dnp3', 20547: 'proconos',
  34962: 'profinet-rt', 34963: 'profinet-rt', 34964: 'profinet-cm', 44818: 'enip', 47808: 'bacnet',
};

const UDP: Readonly<Record<number, string>> = {
  53: 'dns', 67: 'dhcp', 68: 'dhcp', 69: 'tftp', 123: 'ntp', 137: 'nbns', 138: 'netbios-dgm', 161: 'snmp',
  162: 'snmp-trap', 514: 'syslog', 546: 'dhcpv6', 547: 'dhcpv6', 1900: 'ssdp', 2222: 'enip-io', 3702: 'ws-discovery',
  5353: 'mdns', 5355: 'llmnr', 9600: 'omron-fins', 17185: 'vxworks-wdb', 20000: 'dnp3', 34964: 'profinet-cm',
  44818: 'enip', 47808: 'bacnet', 47809: 'bacnet', 319: 'ptp', 320: 'ptp', 102: 'iec61850-rgoose',
};

export function portName(transport: 'tcp' | 'udp', port: number): string | undefined {
  return (transport === 'tcp' ? TCP : UDP)[port];
}

/** True for ports that identify a service, used to pick the server when the handshake was missed. */
export function isServicePort(transport: 'tcp' | 'udp', port: number): boolean {
  return portName(transport, port) !== undefined;
}
