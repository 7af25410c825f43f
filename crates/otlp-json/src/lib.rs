//! cairn-otlp-json: the OTLP/JSON mapping.
