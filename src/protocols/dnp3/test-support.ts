// Test support for the dnp3 tests: shared with other dissectors in _core/testing.ts.
export * from '../_core/testing.ts';
