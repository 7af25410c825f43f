//! Redacts a `{"id", "text"}` JSONL stream from stdin to stdout, with predicted spans, and
//! prints the batch statistics to stderr. Handy with the corpus scorer:
//!
//! ```sh
//! cargo run --release -p cairn-redact --example redact_jsonl < cases.jsonl > out.jsonl
//! python3 score.py cases.jsonl out.jsonl -v
//! ```

use std::io::{self, BufReader, BufWriter};

use cairn_redact::{JsonlOptions, RedactorConfig, redact_jsonl_with};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let redactor = RedactorConfig::default().build()?;
    let stdin = io::stdin();
    let stdout = io::stdout();
    let stats = redact_jsonl_with(
        BufReader::new(stdin.lock()),
        BufWriter::new(stdout.lock()),
        &redactor,
        JsonlOptions { spans: true },
    )?;
    eprintln!("{stats:?}");
    Ok(())
}
