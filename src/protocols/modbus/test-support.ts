// Test support: annotated hex fixtures (one field per line, `//` comments), shared in _core/testing.ts.
export { hex } from '../_core/testing.ts';
