//! Local fake (being built).
