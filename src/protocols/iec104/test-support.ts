// Test support for the iec104 tests: shared with other dissectors in _core/testing.ts.
export * from '../_core/testing.ts';
