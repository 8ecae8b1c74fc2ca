//! TLS for the fake REST API: a throw-away certificate for `discord.com` made at start, and an
//! axum [`Listener`] that hands out finished TLS connections on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// The host name serenity's routes use; the certificate is issued for it.
pub const DISCORD_HOST: &str = "discord.com";

/// A self-signed certificate for [`DISCORD_HOST`] with its key.
pub struct TestCert {
    /// DER of the certificate: add it as the client's only extra root.
    pub cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl TestCert {
    pub fn generate() -> TestCert {
        let certified = rcgen::generate_simple_self_signed(vec![DISCORD_HOST.to_string()])
            .unwrap_or_else(|e| panic!("generating the test certificate: {e}"));
        TestCert {
            cert_der: certified.cert.der().to_vec(),
            key_der: certified.signing_key.serialize_der(),
        }
    }

    fn acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = pki_types::PrivateKeyDer::Pkcs8(self.key_der.clone().into());
        let cert = pki_types::CertificateDer::from(self.cert_der.clone());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(vec![cert], key))
            .unwrap_or_else(|e| panic!("building the TLS server config: {e}"));
        TlsAcceptor::from(Arc::new(config))
    }
}

/// Accepts TCP on 127.0.0.1 and finishes each TLS handshake in its own task, so one stalled
/// client cannot hold up the others.
pub struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub async fn bind(cert: &TestCert) -> TlsListener {
        let tcp = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding 127.0.0.1:0: {e}"));
        let addr = tcp
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"));
        let acceptor = cert.acceptor();
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(accept_loop(tcp, acceptor, tx));
        TlsListener { addr, ready }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

type Accepted = (tokio_rustls::server::TlsStream<TcpStream>, SocketAddr);

async fn accept_loop(tcp: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<Accepted>) {
    loop {
        let Ok((stream, peer)) = tcp.accept().await else {
            continue;
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match acceptor.accept(stream).await {
                Ok(tls) => {
                    let _ = tx.send((tls, peer)).await;
                }
                Err(e) => tracing::debug!("fake discord: TLS handshake from {peer} failed: {e}"),
            }
        });
    }
}

impl Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop never ends while the runtime lives; park rather than spin.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
