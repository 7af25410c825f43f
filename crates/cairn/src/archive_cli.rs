//! `cairn verify` and `cairn archive pubkey|export`: the investigator's side
//! of the tamper-evident archive. Exit codes: 0 ok, 1 the archive is bad (or
//! export failed), 2 a usage or configuration error.

use std::{io::Write as _, path::Path, process::ExitCode};

use cairn_store::archive::{self, ArchiveKey, Filter, VerifyError, parse_public_key, verify};

use crate::config::{
    Source,
    plan::{Overrides, plan},
};

/// `cairn verify DIR [--pubkey KEY]`.
pub fn verify_cmd(dir: &Path, pubkey: Option<&str>) -> ExitCode {
    let key = match pubkey.map(parse_public_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("cairn verify: --pubkey: {e}");
            return ExitCode::from(2);
        }
    };
    match verify(dir, key.as_ref()) {
        Ok(r) => {
            println!(
                "{}: intact: {} records, {} seals in {} segments (seq {}..={}), head {}",
                dir.display(),
                r.records,
                r.seals,
                r.segments,
                r.first_seq,
                r.last_seq,
                r.head
            );
            println!("seals checked with {} ({:?})", r.public_key, r.key_source);
            if r.unsealed_records > 0 {
                println!(
                    "note: the last {} records are hash-linked but not yet sealed",
                    r.unsealed_records
                );
            }
            if key.is_none() {
                println!(
                    "note: no --pubkey given; pass the key kept out of band to rule out a re-signed archive"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e @ VerifyError::Bad(_)) => {
            eprintln!("cairn verify: TAMPERED OR DAMAGED: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cairn verify: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cairn archive pubkey`: the public key of the configured signing key
/// (generated, like at first start, when there is none yet).
pub fn pubkey_cmd(config: Option<&Path>, data_dir: Option<&Path>) -> ExitCode {
    let source = match config {
        Some(path) => Source::read(path),
        None => Ok(Source::embedded()),
    };
    let overrides = Overrides {
        data_dir: data_dir.map(Path::to_owned),
        ..Overrides::default()
    };
    let plan = match source.and_then(|s| plan(&s, &overrides)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let key_file = plan.archive.as_ref().and_then(|a| a.key_file.clone());
    let key = match key_file {
        Some(path) => ArchiveKey::from_file(&path),
        None => {
            if let Err(e) = std::fs::create_dir_all(&plan.data_dir) {
                eprintln!("cairn archive pubkey: {}: {e}", plan.data_dir.display());
                return ExitCode::FAILURE;
            }
            ArchiveKey::load_or_generate(&plan.data_dir)
        }
    };
    match key {
        Ok(k) => {
            println!("{}", k.public_key_string());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cairn archive pubkey: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cairn archive export DIR [--since T] [--until T] [--user U] [--session S]`.
pub fn export_cmd(
    dir: &Path,
    since: Option<&str>,
    until: Option<&str>,
    user: Option<String>,
    session: Option<String>,
) -> ExitCode {
    let parse = |t: Option<&str>, flag: &str| {
        t.map(Filter::parse_time)
            .transpose()
            .map_err(|e| format!("{flag}: {e}"))
    };
    let filter = match (parse(since, "--since"), parse(until, "--until")) {
        (Ok(since), Ok(until)) => Filter {
            since,
            until,
            user,
            session,
        },
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("cairn archive export: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match archive::export(dir, &filter, &mut out).and_then(|n| {
        out.flush().map_err(archive::ExportError::Write)?;
        Ok(n)
    }) {
        Ok(n) => {
            eprintln!("cairn archive export: {n} records");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cairn archive export: {e}");
            ExitCode::FAILURE
        }
    }
}
