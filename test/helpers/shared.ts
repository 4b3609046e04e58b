// Where the shared real captures live (../shared beside the checkout, as in CI), and a skip reason
// when they are absent, so the suite still runs elsewhere.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_PCAPS = join(REPO, '..', 'shared', 'pcaps');
export const HAVE_SHARED = existsSync(join(SHARED_PCAPS, 'MANIFEST.md'));
export const NO_SHARED = HAVE_SHARED ? false : `../shared/pcaps not found beside the checkout (${SHARED_PCAPS})`;

export function sharedPcap(rel: string): string {
  return join(SHARED_PCAPS, rel);
}
