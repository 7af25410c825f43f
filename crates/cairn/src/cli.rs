//! The command line: `cairn run`, `cairn validate`, `cairn --version`.

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
        let running = crate::topology::start(&plan).await?;
        let listeners = plan.data_dir.join("listeners.json");
        std::fs::create_dir_all(&plan.data_dir)?;
        std::fs::write(&listeners, serde_json::to_vec(&running.bound)?)?;
        wait_for_signal().await;
        running.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT received"),
                _ = term.recv() => tracing::info!("SIGTERM received"),
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
