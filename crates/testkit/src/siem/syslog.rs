//! A real rsyslog as the syslog receiver (contract §9: Debian's `rsyslog`
//! and `rsyslog-gnutls`), run unprivileged on loopback ports for the test,
//! plus strict RFC 5424 and CEF readers ([`parse`]) for what it wrote.
//!
//! [`Rsyslog::start`] writes a config into the given directory with four
//! inputs, each with its own ruleset and output file written with
//! `RSYSLOG_SyslogProtocol23Format` (the message as received, one per
//! line): TCP (octet counting is auto-detected), UDP, TLS (`gtls`,
//! anonymous clients) and mutual TLS (`gtls`, client certificate signed by
//! the test CA required). rsyslog cannot bind port 0, so free ports are
//! picked by binding and releasing them; readiness is proven by a probe
//! message over each input appearing in its file, which also proves the
//! ports are rsyslog's and not someone else's (a collision is retried with
//! new ports). The process is killed on drop.
//!
//! A missing `rsyslogd` is a test failure with the install command, not a
//! skip: CI installs it.

use std::{
    fs::File,
    net::{TcpListener, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::io::AsyncWriteExt as _;

use crate::tls::{Pki, write_pki};

pub mod parse;

pub use parse::{Cef, Rfc5424, SdElement, parse_cef, parse_rfc5424};

/// The MSGID of the harness's own readiness probes (left out of
/// [`Rsyslog::messages`]).
pub const PROBE_MSGID: &str = "cairn-probe";

/// One of rsyslog's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// TCP, octet counting or LF framing.
    Tcp,
    /// UDP.
    Udp,
    /// TLS, any client.
    Tls,
    /// TLS requiring a client certificate signed by the test CA.
    Mtls,
}

impl Input {
    /// All four.
    pub const ALL: [Input; 4] = [Input::Tcp, Input::Udp, Input::Tls, Input::Mtls];

    fn name(self) -> &'static str {
        match self {
            Input::Tcp => "tcp",
            Input::Udp => "udp",
            Input::Tls => "tls",
            Input::Mtls => "mtls",
        }
    }
}

/// Finds `rsyslogd` (`$CAIRN_RSYSLOGD`, then `PATH`, then the sbin
/// directories a non-root `PATH` often lacks), or fails the test saying how
/// to install it.
pub fn rsyslogd() -> PathBuf {
    if let Some(p) = std::env::var_os("CAIRN_RSYSLOGD") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "CAIRN_RSYSLOGD={} is not a file", p.display());
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(
        ["/usr/sbin", "/sbin", "/usr/local/sbin"]
            .iter()
            .map(PathBuf::from),
    );
    for dir in dirs {
        let candidate = dir.join("rsyslogd");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "rsyslogd is not installed: the syslog sink tests need a real rsyslog. \
         Install it with `apt-get install -y rsyslog rsyslog-gnutls` (Debian/Ubuntu), \
         or point CAIRN_RSYSLOGD at the binary."
    );
}

/// A running rsyslogd.
pub struct Rsyslog {
    /// TCP input port.
    pub tcp_port: u16,
    /// UDP input port.
    pub udp_port: u16,
    /// TLS input port (no client certificate needed).
    pub tls_port: u16,
    /// Mutual-TLS input port.
    pub mtls_port: u16,
    /// The CA that signed the server (and client) certificates.
    pub ca: PathBuf,
    /// All the test certificates (the client pair for mutual TLS).
    pub pki: Pki,
    dir: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_ports() -> [u16; 4] {
    // Held together so the four differ; released just before rsyslog binds.
    let tcp: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = |l: &TcpListener| l.local_addr().unwrap().port();
    [
        port(&tcp[0]),
        udp.local_addr().unwrap().port(),
        port(&tcp[1]),
        port(&tcp[2]),
    ]
}

impl Rsyslog {
    /// Starts rsyslogd with its config, work directory, certificates and
    /// output files under `dir`, and waits until every input took a probe.
    pub async fn start(dir: &Path) -> Rsyslog {
        let bin = rsyslogd();
        std::fs::create_dir_all(dir.join("work")).unwrap();
        let pki = write_pki(dir);
        let mut last_err = String::new();
        for _ in 0..5 {
            let [tcp_port, udp_port, tls_port, mtls_port] = free_ports();
            let mut r = Rsyslog {
                tcp_port,
                udp_port,
                tls_port,
                mtls_port,
                ca: pki.ca_cert.clone(),
                pki: pki.clone(),
                dir: dir.to_owned(),
                conf: dir.join("rsyslog.conf"),
                child: None,
            };
            r.write_conf();
            r.spawn(&bin);
            match r.wait_ready(Duration::from_secs(10)).await {
                Ok(()) => return r,
                Err(e) => {
                    r.stop();
                    last_err = e;
                }
            }
        }
        panic!(
            "rsyslogd did not come up after 5 attempts: {last_err}\nits stderr:\n{}",
            std::fs::read_to_string(dir.join("rsyslog.stderr")).unwrap_or_default()
        );
    }

    fn write_conf(&self) {
        let d = self.dir.display();
        let mut conf = format!(
            "global(workDirectory=\"{d}/work\" maxMessageSize=\"64k\" net.enableDNS=\"off\"\n\
             \x20 defaultNetstreamDriverCAFile=\"{}\"\n\
             \x20 defaultNetstreamDriverCertFile=\"{}\"\n\
             \x20 defaultNetstreamDriverKeyFile=\"{}\")\n\
             module(load=\"imtcp\" maxSessions=\"200\")\n\
             module(load=\"imudp\")\n",
            self.pki.ca_cert.display(),
            self.pki.server_cert.display(),
            self.pki.server_key.display(),
        );
        for input in Input::ALL {
            let n = input.name();
            conf.push_str(&format!(
                "ruleset(name=\"{n}\") {{ action(type=\"omfile\" file=\"{d}/{n}.log\" template=\"RSYSLOG_SyslogProtocol23Format\") }}\n"
            ));
        }
        let tls = "streamDriver.name=\"gtls\" streamDriver.mode=\"1\"";
        conf.push_str(&format!(
            "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{}\" ruleset=\"tcp\")\n\
             input(type=\"imudp\" address=\"127.0.0.1\" port=\"{}\" ruleset=\"udp\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{}\" ruleset=\"tls\" {tls} streamDriver.authMode=\"anon\")\n\
             input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{}\" ruleset=\"mtls\" {tls} streamDriver.authMode=\"x509/certvalid\")\n",
            self.tcp_port, self.udp_port, self.tls_port, self.mtls_port
        ));
        std::fs::write(&self.conf, conf).unwrap();
    }

    fn spawn(&mut self, bin: &Path) {
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("rsyslog.stderr"))
            .unwrap();
        let pidfile = self.dir.join("rsyslog.pid");
        let _ = std::fs::remove_file(&pidfile);
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(&pidfile)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        self.child = Some(child);
    }

    /// `127.0.0.1:<port>` of an input.
    pub fn address(&self, input: Input) -> String {
        let port = match input {
            Input::Tcp => self.tcp_port,
            Input::Udp => self.udp_port,
            Input::Tls => self.tls_port,
            Input::Mtls => self.mtls_port,
        };
        format!("127.0.0.1:{port}")
    }

    /// The file an input's messages are written to.
    pub fn output_path(&self, input: Input) -> PathBuf {
        self.dir.join(format!("{}.log", input.name()))
    }

    /// The complete lines an input wrote so far, probes included.
    pub fn raw_lines(&self, input: Input) -> Vec<Vec<u8>> {
        let data = std::fs::read(self.output_path(input)).unwrap_or_default();
        let complete = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        data[..complete]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    }

    /// What an input received, parsed strictly, probes left out. A line
    /// that is not valid RFC 5424 fails the test.
    pub fn messages(&self, input: Input) -> Vec<Rfc5424> {
        self.raw_lines(input)
            .iter()
            .map(|l| {
                parse_rfc5424(l).unwrap_or_else(|e| {
                    panic!(
                        "rsyslog wrote a line that is not RFC 5424 ({e}): {}",
                        String::from_utf8_lossy(l)
                    )
                })
            })
            .filter(|m| m.msgid.as_deref() != Some(PROBE_MSGID))
            .collect()
    }

    /// Kills rsyslogd (SIGKILL) and waits for it; its ports close.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts rsyslogd again on the same ports and files.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn(&rsyslogd());
        if let Err(e) = self.wait_ready(Duration::from_secs(10)).await {
            panic!(
                "rsyslogd did not come back on the same ports: {e}\nits stderr:\n{}",
                std::fs::read_to_string(self.dir.join("rsyslog.stderr")).unwrap_or_default()
            );
        }
    }

    async fn wait_ready(&mut self, bound: Duration) -> Result<(), String> {
        let nonce = format!("probe-{}-{}", std::process::id(), now_nanos());
        let deadline = Instant::now() + bound;
        let mut pending: Vec<Input> = Input::ALL.to_vec();
        while !pending.is_empty() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("rsyslogd exited with {status}"));
            }
            if Instant::now() > deadline {
                return Err(format!("no probe arrived on {pending:?} within {bound:?}"));
            }
            for input in pending.clone() {
                let _ = self.probe(input, &nonce).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            pending.retain(|i| {
                !self
                    .raw_lines(*i)
                    .iter()
                    .any(|l| String::from_utf8_lossy(l).ends_with(&nonce))
            });
        }
        Ok(())
    }

    async fn probe(&self, input: Input, nonce: &str) -> std::io::Result<()> {
        let msg = format!("<14>1 - cairn-test cairn-test - {PROBE_MSGID} - {nonce}");
        let frame = format!("{} {msg}", msg.len());
        let addr = self.address(input);
        let timeout = Duration::from_secs(2);
        let io = |e: String| std::io::Error::other(e);
        match input {
            Input::Udp => {
                let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
                s.send_to(msg.as_bytes(), &addr).await?;
            }
            Input::Tcp => {
                let mut s = tokio::net::TcpStream::connect(&addr).await?;
                s.write_all(frame.as_bytes()).await?;
                s.shutdown().await?;
            }
            Input::Tls | Input::Mtls => {
                let config = self.client_tls(input == Input::Mtls);
                let tcp = tokio::net::TcpStream::connect(&addr).await?;
                let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
                let mut s = tokio::time::timeout(
                    timeout,
                    tokio_rustls::TlsConnector::from(config).connect(name, tcp),
                )
                .await
                .map_err(|_| io("TLS handshake timed out".into()))??;
                s.write_all(frame.as_bytes()).await?;
                s.flush().await?;
                s.shutdown().await?;
            }
        }
        Ok(())
    }

    /// A rustls client config trusting the test CA, with the test client
    /// certificate when `with_cert`.
    pub fn client_tls(&self, with_cert: bool) -> Arc<rustls::ClientConfig> {
        use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&self.pki.ca_cert).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let b = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = if with_cert {
            let chain = CertificateDer::pem_file_iter(&self.pki.client_cert)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_file(&self.pki.client_key).unwrap();
            b.with_client_auth_cert(chain, key).unwrap()
        } else {
            b.with_no_client_auth()
        };
        Arc::new(config)
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
