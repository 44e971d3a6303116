//! The LMTP listener: `caliopen-smtp`'s inbound server over core, stopped with the node.
//! Messages larger than its `data_buffer` are spooled in `<data_dir>/spool` while they
//! arrive.

use caliopen_core::Core;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;

pub fn spawn(
    listener: TcpListener,
    core: Core,
    config: &Config,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let mut settings = config.lmtp.clone();
    settings.spool_dir = Some(config.data_dir.join("spool"));
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = caliopen_smtp::serve(listener, core, settings, shutdown).await {
            tracing::error!(error = %e, "the LMTP server could not start");
        }
    })
}
