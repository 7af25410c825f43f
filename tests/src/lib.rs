//! cairn-tests: the end-to-end suite lives in `e2e/` (one test binary).
