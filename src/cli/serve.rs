//! `newsdesk serve`: the story pages alone, on an existing database (read-only), for those who
//! run the daemon elsewhere or host the pages on another machine. `run` serves them too when
//! `[web] listen` is set.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use super::run::open_desk_read_only;
use crate::config::Config;
use crate::pipeline::Desk;
use crate::shutdown::Shutdown;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to serve on (default: `[web] listen`, else 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Loopback unless the operator says otherwise: the pages are for a reverse proxy in front.
const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

pub async fn run(config: Config, args: &ServeArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::on_signals();
    let listen = args.listen.or(config.web.listen).unwrap_or(DEFAULT_LISTEN);
    let desk = open_desk_read_only(config)?;
    let listener = bind(listen).await?;
    eprintln!("serving story pages on http://{}", listener.local_addr()?);
    let activity = crate::web::Activity::Elsewhere;
    crate::web::serve(
        listener,
        desk,
        activity,
        async move { shutdown.fired().await },
    )
    .await
    .context("the web server stopped")
}

/// The listener for `[web] listen`, with the address in the error.
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ([web] listen)"))
}

/// Starts the pages beside the daemon when `[web] listen` is set, or on the default address
/// when `always`; they stop with it. Returns whether they were started.
pub(crate) async fn beside_daemon(
    desk: &Arc<Desk>,
    shutdown: &Shutdown,
    always: bool,
) -> anyhow::Result<bool> {
    let addr = match desk.config.web.listen {
        Some(addr) => addr,
        None if always => DEFAULT_LISTEN,
        None => return Ok(false),
    };
    let listener = bind(addr).await?;
    eprintln!("serving story pages on http://{}", listener.local_addr()?);
    let (desk, stop) = (Arc::clone(desk), shutdown.clone());
    tokio::spawn(async move {
        let activity = crate::web::Activity::InProcess;
        let stopped = async move { stop.fired().await };
        if let Err(e) = crate::web::serve(listener, desk, activity, stopped).await {
            tracing::error!(error = %e, "the web server stopped");
        }
    });
    Ok(true)
}
