// Test support for the goose tests: the shared fixtures and recording context of _core/testing.ts.
export { fromHex, hex, TraceCtx as Ctx, type Ev } from '../_core/testing.ts';
