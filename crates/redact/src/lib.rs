//! cairn-redact: the redaction engine (see DESIGN.md).
