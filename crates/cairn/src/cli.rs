//! The command line: `cairn run`, `cairn validate`, `cairn redact`,
//! `cairn verify`, `cairn archive pubkey|export`, `cairn --version`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::config::{
    LogFormat, Source,
    plan::{Overrides, Plan, plan},
};

/// cairn: the OTLP endpoint that turns Claude Code and Cowork telemetry into audit evidence.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (on the embedded default config unless --config is given).
    Run {
        /// A TOML configuration file.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// OTLP/gRPC listen address (overrides the file).
        #[arg(long)]
        grpc_addr: Option<String>,
        /// OTLP/HTTP listen address (overrides the file).
        #[arg(long)]
        http_addr: Option<String>,
        /// Admin listen address (overrides the file).
        #[arg(long)]
        admin_addr: Option<String>,
        /// Data directory (overrides the file).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Check a configuration file and exit: 0 if valid, 2 with file:line: key: why otherwise.
    Validate {
        /// The TOML file.
        file: PathBuf,
    },
    /// Verify a tamper-evident archive: exit 0 if intact, 1 naming the first
    /// modified, deleted, inserted or reordered record or truncated segment.
    Verify {
        /// The archive directory (`<data_dir>/archive`).
        dir: PathBuf,
        /// The public key (base64 or hex) kept out of band; without it the
        /// key beside the archive is used, which an attacker could replace.
        #[arg(long)]
        pubkey: Option<String>,
    },
    /// The archive's signing key and its records.
    Archive {
        /// What to do.
        #[command(subcommand)]
        command: ArchiveCommand,
    },
    /// Redact text with the configured rules: reads `{"id", "text"}` JSON
    /// lines on stdin, writes `{"id", "text": <redacted>}` lines on stdout.
    Redact {
        /// Read and write JSON lines (the only mode).
        #[arg(long, required = true)]
        jsonl: bool,
        /// Also write the redacted byte spans of each line.
        #[arg(long)]
        spans: bool,
        /// A configuration whose `[redaction]` rules to use (default: embedded).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

/// `cairn archive` subcommands.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Print the public key of the archive signing key (generating the key
    /// in the data dir if there is none yet, as the first start would).
    Pubkey {
        /// A TOML configuration file (default: embedded).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Data directory (overrides the file).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Write the matching records as JSON lines on stdout, with their
    /// session.id, prompt.id and user.
    Export {
        /// The archive directory (`<data_dir>/archive`).
        dir: PathBuf,
        /// Records at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Records before this RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// A user: email, user.id or account uuid.
        #[arg(long)]
        user: Option<String>,
        /// A session.id.
        #[arg(long)]
        session: Option<String>,
    },
}

/// Entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { file } => {
            match Source::read(&file).and_then(|s| plan(&s, &Overrides::default())) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Verify { dir, pubkey } => crate::archive_cli::verify_cmd(&dir, pubkey.as_deref()),
        Command::Archive { command } => match command {
            ArchiveCommand::Pubkey { config, data_dir } => {
                crate::archive_cli::pubkey_cmd(config.as_deref(), data_dir.as_deref())
            }
            ArchiveCommand::Export {
                dir,
                since,
                until,
                user,
                session,
            } => crate::archive_cli::export_cmd(
                &dir,
                since.as_deref(),
                until.as_deref(),
                user,
                session,
            ),
        },
        Command::Redact {
            jsonl: _,
            spans,
            config,
        } => redact(config, spans),
        Command::Run {
            config,
            grpc_addr,
            http_addr,
            admin_addr,
            data_dir,
        } => {
            let source = match config {
                Some(path) => Source::read(&path),
                None => Ok(Source::embedded()),
            };
            let overrides = Overrides {
                grpc_addr,
                http_addr,
                admin_addr,
                data_dir,
            };
            let plan = match source.and_then(|s| plan(&s, &overrides)) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            init_logging(&plan);
            match run(plan) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("cairn: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn redact(config: Option<PathBuf>, spans: bool) -> ExitCode {
    let source = match config {
        Some(path) => Source::read(&path),
        None => Ok(Source::embedded()),
    };
    let plan = match source.and_then(|s| plan(&s, &Overrides::default())) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let redactor = match plan.redaction.engine.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cairn: {e}");
            return ExitCode::from(2);
        }
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let options = cairn_redact::JsonlOptions { spans };
    match cairn_redact::redact_jsonl_with(stdin, stdout, &redactor, options) {
        Ok(stats) => {
            eprintln!(
                "cairn redact: {} records, {} redacted, {} unscannable, {} malformed",
                stats.records, stats.redacted, stats.unscannable, stats.malformed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cairn redact: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(plan: &Plan) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&plan.log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match plan.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn run(plan: Plan) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Handlers first: a SIGTERM any time after start drains, never
        // kills (tests send it as soon as listeners.json appears).
        let signals = Signals::install();
        let running = crate::topology::start(&plan).await?;
        let listeners = plan.data_dir.join("listeners.json");
        std::fs::create_dir_all(&plan.data_dir)?;
        std::fs::write(&listeners, serde_json::to_vec(&running.bound)?)?;
        signals.wait().await;
        running.shutdown().await;
        Ok(())
    })
}

/// SIGINT and SIGTERM, installed before anything starts.
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        Signals(
            signal(SignalKind::interrupt())
                .ok()
                .zip(signal(SignalKind::terminate()).ok()),
        )
    }

    async fn wait(self) {
        match self.0 {
            Some((mut int, mut term)) => {
                tokio::select! {
                    _ = int.recv() => tracing::info!("SIGINT received"),
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
