//! The bot: the gateway client (slash commands) and the daemon loop (digests) side by side,
//! sharing one HTTP stack, stopped together. The desk never waits for Discord: digests start
//! at once, and the gateway connects (or keeps failing to) on its own task.

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{ClientBuilder, GatewayIntents, Http, ShardManager};

use crate::daemon::{self, Clock, RunOptions};
use crate::discord::handler::Handler;
use crate::discord::route::{RoutedSink, Routes};
use crate::pipeline::{Desk, PollOutcome};
use crate::shutdown::Shutdown;
use crate::store::FeedRow;

/// How long the gateway may take to close once the daemon has stopped (an unreachable Discord
/// must not keep the process alive).
const GATEWAY_CLOSE: Duration = Duration::from_secs(5);

/// Runs the bot until `shutdown` fires (or one cycle with `options.once`). `make_http` builds
/// serenity's client (normally on the fetcher's reqwest client, so the program has one HTTP
/// stack): one for digests, one for the gateway and commands. `routes` says where each
/// channel's digests go.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    desk: Arc<Desk>,
    make_http: impl Fn() -> Http,
    routes: Routes,
    clock: &dyn Clock,
    options: RunOptions,
    on_feed: &(dyn Fn(&FeedRow, &PollOutcome) + Sync),
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let sink = RoutedSink::for_desk(&desk, routes, Some(Arc::new(make_http())), false);

    let (shards_tx, shards_rx) = tokio::sync::oneshot::channel::<Arc<ShardManager>>();
    let gateway = {
        let http = make_http();
        let handler = Handler::new(Arc::clone(&desk));
        tokio::spawn(async move {
            // Asks Discord for the gateway's address first: slow when Discord is unreachable.
            let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
                .event_handler(handler)
                .await?;
            let _ = shards_tx.send(Arc::clone(&client.shard_manager));
            client.start().await
        })
    };
    // The gateway starts closing as soon as a stop is asked for, beside the daemon's grace
    // period rather than after it.
    let closing = shutdown.clone();
    let (finished, daemon_done) = Shutdown::new();
    let daemon = async {
        let result = daemon::run(Arc::clone(&desk), &sink, clock, options, on_feed, shutdown).await;
        finished.fire();
        result
    };
    let closer = async {
        tokio::select! {
            built = shards_rx => {
                let shards = built.ok()?;
                tokio::select! {
                    _ = closing.fired() => {}
                    _ = daemon_done.fired() => {}
                }
                close(&shards).await;
                Some(shards)
            }
            // The daemon is done and the gateway never connected: nothing to close.
            _ = daemon_done.fired() => None,
        }
    };
    let (result, shards) = tokio::join!(daemon, closer);
    let abort = gateway.abort_handle();
    match shards {
        // Never connected (Discord unreachable): nothing to wait for.
        None => abort.abort(),
        Some(_closed) => match tokio::time::timeout(GATEWAY_CLOSE, gateway).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "Discord gateway ended with an error"),
            Ok(Err(e)) if !e.is_cancelled() => {
                tracing::warn!(error = %e, "Discord gateway task failed")
            }
            Ok(_) => {}
            Err(_) => {
                tracing::warn!("the Discord gateway did not close in time; abandoned");
                abort.abort();
            }
        },
    }
    result.map_err(anyhow::Error::from)
}

/// Closes the gateway's shards, waiting at most [`GATEWAY_CLOSE`].
async fn close(shards: &ShardManager) {
    if tokio::time::timeout(GATEWAY_CLOSE, shards.shutdown_all())
        .await
        .is_err()
    {
        tracing::warn!("the Discord gateway did not close in time");
    }
}
