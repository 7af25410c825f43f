//! cairn-benches: criterion benches for the hot path live in `benches/`.
//! Figures, machine and commands are in `BENCHMARKS.md`.
