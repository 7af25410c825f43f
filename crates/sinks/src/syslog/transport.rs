//! The connection to the receiver: one TCP or TLS stream kept open across
//! batches (reconnected after any error), or one UDP socket.
//!
//! Syslog has no acknowledgement: a successful TCP write only means the
//! bytes reached the local kernel. To avoid writing a batch into a
//! connection the receiver already closed (a restart between batches,
//! which would lose the batch silently), the stream is checked for
//! end-of-file before each write and reopened if the peer went away. A
//! receiver that dies after that check can still lose the in-flight tail;
//! RFC 5424 gives no way to know, which is why every message carries its
//! `record_id` for deduplication of resends.

use std::{io, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use futures::FutureExt as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpStream, UdpSocket},
    sync::Mutex,
};
use tokio_rustls::{TlsConnector, client::TlsStream};

/// TLS settings for a stream: the rustls config and the name to verify.
pub type TlsTarget = (Arc<rustls::ClientConfig>, ServerName<'static>);

/// How messages reach the receiver.
pub enum Link {
    /// TCP or TLS, octet-counted frames.
    Stream {
        /// `host:port`.
        address: String,
        /// Set for TLS.
        tls: Option<TlsTarget>,
        /// Connect, handshake and write timeout.
        timeout: Duration,
        /// The open connection, if any; one batch writes at a time so
        /// frames of two batches never interleave.
        conn: Mutex<Option<Conn>>,
    },
    /// UDP, one message per datagram.
    Udp {
        /// `host:port`.
        address: String,
        /// The connected socket, if any.
        socket: Mutex<Option<UdpSocket>>,
    },
}

/// An open stream.
pub enum Conn {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

fn pem_err(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(path, e))?;
    if certs.is_empty() {
        return Err(pem_err(path, "no certificate found"));
    }
    Ok(certs)
}

/// The rustls client config: TLS 1.2+, trusting `ca_file` (else the public
/// web roots), presenting `client` (certificate, key) for mutual TLS.
pub fn tls_config(
    ca_file: Option<&Path>,
    client: Option<(&Path, &Path)>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for c in certs(path)? {
                roots.add(c).map_err(|e| pem_err(path, e))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_err(key, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("tls client certificate: {e}"))?
        }
    };
    Ok(Arc::new(config))
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Tcp(s) => s,
            Conn::Tls(s) => s.get_ref().0,
        }
    }

    /// Whether the receiver closed (or reset) the connection. Reads what
    /// is already there without waiting: a syslog receiver sends nothing
    /// but TLS housekeeping (session tickets, close_notify), which rustls
    /// consumes here; then asks the socket itself, because the runtime may
    /// not have seen a FIN that arrived since it last polled.
    pub fn peer_closed(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        for _ in 0..64 {
            let read = match self {
                Conn::Tcp(s) => s.read(&mut buf).now_or_never(),
                Conn::Tls(s) => s.read(&mut buf).now_or_never(),
            };
            match read {
                None => break,
                Some(Ok(0)) | Some(Err(_)) => return true,
                Some(Ok(_)) => {}
            }
        }
        socket_closed(self.tcp())
    }

    async fn write_frames(&mut self, frames: &[u8]) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => {
                s.write_all(frames).await?;
                s.flush().await
            }
            Conn::Tls(s) => {
                s.write_all(frames).await?;
                s.flush().await
            }
        }
    }
}

/// Peeks at the socket through a duplicate of its descriptor (so the
/// runtime's readiness cache is bypassed): end-of-file or an error means
/// the peer is gone; "would block" or pending bytes mean it is there.
#[cfg(unix)]
fn socket_closed(stream: &TcpStream) -> bool {
    use std::os::fd::AsFd as _;
    let Ok(fd) = stream.as_fd().try_clone_to_owned() else {
        return false;
    };
    let std_stream = std::net::TcpStream::from(fd);
    let mut byte = [0u8; 1];
    match std_stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    }
}

#[cfg(not(unix))]
fn socket_closed(_stream: &TcpStream) -> bool {
    false
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}

async fn connect(address: &str, tls: Option<&TlsTarget>, timeout: Duration) -> io::Result<Conn> {
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(address))
        .await
        .map_err(|_| timed_out("connect"))??;
    let _ = tcp.set_nodelay(true);
    match tls {
        None => Ok(Conn::Tcp(tcp)),
        Some((config, name)) => {
            let connector = TlsConnector::from(Arc::clone(config));
            let mut stream = tokio::time::timeout(timeout, connector.connect(name.clone(), tcp))
                .await
                .map_err(|_| timed_out("TLS handshake"))??;
            refused_after_handshake(config, &mut stream).await?;
            Ok(Conn::Tls(Box::new(stream)))
        }
    }
}

/// How long to listen for a refusal of our client certificate after a
/// TLS 1.3 handshake.
const CLIENT_CERT_SETTLE: Duration = Duration::from_millis(250);

/// Under TLS 1.3 the server checks the client certificate after our side of
/// the handshake is complete, so a refusal arrives as an alert afterwards,
/// and frames written meanwhile would vanish with no error. When we present
/// a certificate over TLS 1.3, wait briefly for that alert (or a close)
/// before the first write; a receiver that accepts us sends nothing, so the
/// wait ends by timing out. A refusal slower than the wait still loses the
/// batch written on that connection: syslog has no acknowledgement.
async fn refused_after_handshake(
    config: &rustls::ClientConfig,
    stream: &mut TlsStream<TcpStream>,
) -> io::Result<()> {
    let tls13 = stream.get_ref().1.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    if !tls13 || !config.client_auth_cert_resolver.has_certs() {
        return Ok(());
    }
    let mut buf = [0u8; 64];
    match tokio::time::timeout(CLIENT_CERT_SETTLE, stream.read(&mut buf)).await {
        Err(_) | Ok(Ok(1..)) => Ok(()),
        Ok(Ok(0)) => Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the receiver closed the TLS connection after the handshake (client certificate refused?)",
        )),
        Ok(Err(e)) => Err(io::Error::new(
            e.kind(),
            format!("the receiver refused the TLS session after the handshake: {e}"),
        )),
    }
}

/// How far a batch got before a failure.
pub struct SendError {
    /// Messages known to be handed over before the failure (UDP only; a
    /// stream write is all or nothing from our side).
    pub sent: usize,
    /// What went wrong.
    pub reason: String,
}

impl Link {
    /// A TCP (`tls` unset) or TLS link.
    pub fn stream(address: &str, tls: Option<TlsTarget>, timeout: Duration) -> Link {
        Link::Stream {
            address: address.to_owned(),
            tls,
            timeout,
            conn: Mutex::new(None),
        }
    }

    /// A UDP link.
    pub fn udp(address: &str) -> Link {
        Link::Udp {
            address: address.to_owned(),
            socket: Mutex::new(None),
        }
    }

    /// Sends `messages`: on a stream as one write of octet-counted frames
    /// (`MSG-LEN SP SYSLOG-MSG`, RFC 6587 §3.4.1 / RFC 5425 §4.3), on UDP
    /// as one datagram each.
    pub async fn send(&self, messages: &[&[u8]]) -> Result<(), SendError> {
        match self {
            Link::Stream {
                address,
                tls,
                timeout,
                conn,
            } => {
                let size: usize = messages.iter().map(|m| m.len() + 8).sum();
                let mut frames = Vec::with_capacity(size);
                for m in messages {
                    frames.extend_from_slice(m.len().to_string().as_bytes());
                    frames.push(b' ');
                    frames.extend_from_slice(m);
                }
                let mut guard = conn.lock().await;
                let fail = |what: &str, e: io::Error| SendError {
                    sent: 0,
                    reason: format!("{what} syslog receiver {address}: {e}"),
                };
                // Taken out while writing: if this future is dropped halfway
                // through a frame, the connection goes with it instead of
                // the next batch continuing a broken frame.
                let mut previous = guard.take();
                if previous.as_mut().is_some_and(Conn::peer_closed) {
                    tracing::debug!("syslog receiver closed the connection; reconnecting");
                    previous = None;
                }
                let mut c = match previous {
                    Some(c) => c,
                    None => connect(address, tls.as_ref(), *timeout)
                        .await
                        .map_err(|e| fail("connecting to", e))?,
                };
                tokio::time::timeout(*timeout, c.write_frames(&frames))
                    .await
                    .unwrap_or_else(|_| Err(timed_out("write")))
                    .map_err(|e| fail("writing to", e))?;
                *guard = Some(c);
                Ok(())
            }
            Link::Udp { address, socket } => {
                let mut guard = socket.lock().await;
                let s = match guard.as_mut() {
                    Some(s) => s,
                    None => guard.insert(udp_socket(address).await.map_err(|e| SendError {
                        sent: 0,
                        reason: format!("opening a UDP socket to {address}: {e}"),
                    })?),
                };
                for (i, m) in messages.iter().enumerate() {
                    if let Err(e) = s.send(m).await {
                        // A refused datagram (ICMP port unreachable) leaves
                        // an error on the socket; a fresh one starts clean.
                        *guard = None;
                        return Err(SendError {
                            sent: i,
                            reason: format!("sending to syslog receiver {address}: {e}"),
                        });
                    }
                }
                Ok(())
            }
        }
    }
}

async fn udp_socket(address: &str) -> io::Result<UdpSocket> {
    let target: SocketAddr = tokio::net::lookup_host(address)
        .await?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))?;
    let local: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(target).await?;
    Ok(socket)
}
