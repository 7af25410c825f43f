//! cairn-otlp
