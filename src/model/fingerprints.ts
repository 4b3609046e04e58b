// IT-side fingerprints of an asset (DHCP, HTTP, TLS, SSH, SMB): the operating system and software
// it reveals, as hints that help tell an HMI from a laptop.

import type { Asset } from './types.ts';

export type FingerprintHint =
  | 'desktop_os'
  | 'server_os'
  | 'mobile_os'
  | 'embedded'
  | 'browser'
  | 'web_server'
  | 'ssh_server'
  | 'file_server'
  | 'domain_controller'
  | 'database'
  | 'hmi_software'
  | 'engineering_software'
  | 'historian_software'
  | 'network_device';

export interface Fingerprint {
  os: string | null;
  hints: FingerprintHint[];
  evidence: string[];
}

export function fingerprintAsset(asset: Asset): Fingerprint {
  const vc = asset.dhcp?.vendorClass;
  if (vc !== undefined && /^MSFT /.test(vc))
    return { os: 'Windows', hints: ['desktop_os'], evidence: [`DHCP vendor class ${vc}: Windows`] };
  return { os: null, hints: [], evidence: [] };
}
