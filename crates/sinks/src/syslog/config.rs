//! `[sinks.syslog]`: where the receiver is, how to reach it (UDP, TCP with
//! octet counting, or TLS), and how messages look (RFC 5424 structured data
//! or CEF as the message). [`Config::check`] validates without touching the
//! network or the files; [`Config::build`] reads the TLS files and builds
//! the sink.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

use super::{
    client::Syslog,
    encode::{Encoder, Format},
    transport::{Link, tls_config},
};

/// How messages travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// RFC 6587 octet counting over TCP (`MSG-LEN SP SYSLOG-MSG`).
    #[default]
    Tcp,
    /// RFC 5425: octet counting inside TLS 1.2+.
    Tls,
    /// RFC 5426: one message per datagram; no acknowledgement and no
    /// backpressure, so loss is silent.
    Udp,
}

/// A facility, as a number (0–23) or a name (`auth`, `authpriv`, `audit`,
/// `local0`…`local7`, …).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Facility {
    /// `facility = 13`
    Number(u8),
    /// `facility = "local4"`
    Name(String),
}

impl Default for Facility {
    fn default() -> Self {
        Facility::Number(DEFAULT_FACILITY)
    }
}

const FACILITY_NAMES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

impl Facility {
    /// The facility number, or why the setting is not one.
    pub fn code(&self) -> Result<u8, String> {
        match self {
            Facility::Number(n) if *n <= 23 => Ok(*n),
            Facility::Number(n) => Err(format!("facility {n} is not in 0..=23")),
            Facility::Name(name) => FACILITY_NAMES
                .iter()
                .position(|f| f.eq_ignore_ascii_case(name))
                .and_then(|i| u8::try_from(i).ok())
                .ok_or_else(|| {
                    format!(
                        "unknown facility {name:?} (use 0..=23 or one of {})",
                        FACILITY_NAMES.join(", ")
                    )
                }),
        }
    }
}

/// RFC 5424 §6.1's "log audit".
pub const DEFAULT_FACILITY: u8 = 13;
/// The private enterprise number RFC 5424 uses in its examples; set your
/// organisation's own in production.
pub const DEFAULT_ENTERPRISE_NUMBER: u32 = 32473;
/// Longest TCP/TLS message by default: rsyslog's default `maxMessageSize`
/// (8 KiB); RFC 5424 only requires receivers to take 480 octets.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 8192;
/// Longest UDP datagram by default: under a 1,500-byte path MTU after IP
/// and UDP headers, so datagrams are not fragmented (RFC 5426 §3.2). An
/// IPv6 receiver is only required to take 1,180 octets, an IPv4 one 480:
/// lower it for such receivers.
pub const DEFAULT_MAX_DATAGRAM_BYTES: usize = 1400;
/// RFC 5426: an IPv4 receiver must take 480 octets; less cannot hold a
/// header and structured data.
pub const MIN_MESSAGE_BYTES: usize = 480;
/// The IPv4 UDP payload ceiling.
pub const MAX_DATAGRAM_BYTES: usize = 65_507;

/// `[sinks.syslog]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The receiver, `host:port` (`syslog.example.net:6514`).
    pub address: String,
    /// `tcp` (default), `tls` or `udp`.
    #[serde(default)]
    pub transport: Transport,
    /// `rfc5424` (default: fields as structured data) or `cef` (an
    /// ArcSight CEF line as the message).
    #[serde(default)]
    pub format: Format,
    /// Facility number or name (default 13, "log audit").
    #[serde(default)]
    pub facility: Facility,
    /// HOSTNAME in the header (default: this machine's host name).
    pub hostname: Option<String>,
    /// The private enterprise number in the SD-ID `cairn@<number>`.
    #[serde(default = "default_pen")]
    pub enterprise_number: u32,
    /// Append the record's full JSON to the RFC 5424 message (default
    /// false: it is large, and receivers truncate long messages).
    #[serde(default)]
    pub include_detail: bool,
    /// TCP/TLS: longest message in bytes; longer ones are cut at the end of
    /// MSG (default 8192).
    pub max_message_bytes: Option<usize>,
    /// UDP: longest datagram in bytes; longer messages are cut at the end
    /// of MSG (default 1400).
    pub max_datagram_bytes: Option<usize>,
    /// Connect, handshake and write timeout in seconds (default 10).
    pub timeout_secs: Option<u64>,
    /// TLS: PEM CA bundle to trust instead of the public web roots.
    pub ca_file: Option<PathBuf>,
    /// TLS: the name to verify the certificate against (default: the host
    /// part of `address`).
    pub server_name: Option<String>,
    /// TLS: PEM client certificate chain for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// TLS: PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
}

fn default_pen() -> u32 {
    DEFAULT_ENTERPRISE_NUMBER
}

/// Whether a header field is 1..=`max` printable US-ASCII characters.
pub(crate) fn printable(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| (33..=126).contains(&b))
}

impl Config {
    /// The host part of `address` (brackets of an IPv6 literal removed).
    fn host(&self) -> Result<&str, String> {
        let (host, port) = self
            .address
            .rsplit_once(':')
            .ok_or_else(|| format!("address {:?} is not host:port", self.address))?;
        port.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("address {:?} has no valid port", self.address))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("address {:?} has no host", self.address));
        }
        Ok(host)
    }

    /// The message size limit for the chosen transport.
    pub fn max_bytes(&self) -> usize {
        match self.transport {
            Transport::Udp => self
                .max_datagram_bytes
                .unwrap_or(DEFAULT_MAX_DATAGRAM_BYTES),
            Transport::Tcp | Transport::Tls => {
                self.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
            }
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(10).max(1))
    }

    /// Validates without network or files.
    pub fn check(&self) -> Result<(), String> {
        self.host()?;
        self.facility.code()?;
        if let Some(h) = &self.hostname
            && !printable(h, 255)
        {
            return Err(format!(
                "hostname {h:?} must be 1 to 255 printable ASCII characters without spaces"
            ));
        }
        if self.enterprise_number == 0 {
            return Err("enterprise_number must be a private enterprise number, not 0".into());
        }
        let udp = self.transport == Transport::Udp;
        if udp && self.max_message_bytes.is_some() {
            return Err("max_message_bytes applies to tcp and tls; use max_datagram_bytes".into());
        }
        if !udp && self.max_datagram_bytes.is_some() {
            return Err("max_datagram_bytes applies to udp only; use max_message_bytes".into());
        }
        let max = self.max_bytes();
        if max < MIN_MESSAGE_BYTES {
            return Err(format!(
                "a message limit of {max} bytes is under RFC 5424's minimum of {MIN_MESSAGE_BYTES}"
            ));
        }
        if udp && max > MAX_DATAGRAM_BYTES {
            return Err(format!(
                "max_datagram_bytes {max} is over the UDP payload ceiling of {MAX_DATAGRAM_BYTES}"
            ));
        }
        if self.include_detail && self.format == Format::Cef {
            return Err("include_detail applies to format = \"rfc5424\" only".into());
        }
        let tls_only = [
            ("ca_file", self.ca_file.is_some()),
            ("server_name", self.server_name.is_some()),
            ("client_cert", self.client_cert.is_some()),
            ("client_key", self.client_key.is_some()),
        ];
        if self.transport != Transport::Tls
            && let Some((name, _)) = tls_only.iter().find(|(_, set)| *set)
        {
            return Err(format!("{name} applies to transport = \"tls\" only"));
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err("mutual TLS needs both client_cert and client_key".into());
        }
        if let Some(name) = &self.server_name {
            rustls_pki_types::ServerName::try_from(name.as_str())
                .map_err(|_| format!("server_name {name:?} is not a DNS name or IP address"))?;
        }
        Ok(())
    }

    /// Reads the TLS files and builds the sink (no connection yet: the
    /// first batch connects).
    pub fn build(&self) -> Result<Syslog, String> {
        self.check()?;
        let facility = self.facility.code()?;
        let hostname = match &self.hostname {
            Some(h) => h.clone(),
            None => super::encode::machine_hostname(),
        };
        let encoder = Encoder::new(
            self.format,
            facility,
            &hostname,
            self.enterprise_number,
            self.include_detail,
            self.max_bytes(),
        );
        let link = match self.transport {
            Transport::Udp => Link::udp(&self.address),
            Transport::Tcp => Link::stream(&self.address, None, self.timeout()),
            Transport::Tls => {
                let name = self.server_name.as_deref().unwrap_or(self.host()?);
                let server_name = rustls_pki_types::ServerName::try_from(name.to_owned())
                    .map_err(|_| format!("server name {name:?} is not a DNS name or IP address"))?;
                let config = tls_config(
                    self.ca_file.as_deref(),
                    self.client_cert.as_deref().zip(self.client_key.as_deref()),
                )?;
                Link::stream(&self.address, Some((config, server_name)), self.timeout())
            }
        };
        Ok(Syslog::new(encoder, link))
    }
}
