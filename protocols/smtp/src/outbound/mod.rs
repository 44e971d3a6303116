//! The outbound SMTP client: hands the jobs of core's durable outbound queue to the
//! configured relay (STARTTLS or implicit TLS, AUTH) and tells core what the relay
//! said. Core keeps the queue, the retries with backoff and the bounces; without a
//! relay configured, jobs wait and their message says why.

mod relay;
mod settings;

use std::time::Duration;

use caliopen_core::Core;
use caliopen_core::outbound::queue::RelayOutcome;
use tokio::task::JoinHandle;

pub use relay::Relay;
pub use settings::{OutboundSettings, RelayTls};

/// Jobs taken per round.
const BATCH: usize = 16;

/// Runs the outbound worker until `shutdown` completes.
pub fn spawn(
    core: Core,
    settings: &OutboundSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<JoinHandle<()>, crate::InboundError> {
    let relay = Relay::new(settings)?;
    Ok(tokio::spawn(async move {
        tokio::pin!(shutdown);
        loop {
            let worked = tokio::select! {
                _ = &mut shutdown => return,
                r = round(&core, relay.as_ref()) => r,
            };
            if !worked {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = core.wait_for_outbound(Duration::from_secs(1)) => {}
                }
            }
        }
    }))
}

/// One pass over the due jobs; whether there was any.
async fn round(core: &Core, relay: Option<&Relay>) -> bool {
    let jobs = match core.due_outbound(BATCH).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the outbound queue");
            tokio::time::sleep(Duration::from_secs(1)).await;
            return false;
        }
    };
    if jobs.is_empty() {
        return false;
    }
    for job in &jobs {
        // The user moved to a node that joined meanwhile: it sends the job.
        if !core.owns(job.user_id) {
            continue;
        }
        let outcome = match relay {
            None => RelayOutcome::NoRelay("no relay is configured: set [outbound] relay".into()),
            Some(relay) => match core.outbound_raw(job).await {
                Ok(raw) => relay.send(job, &raw).await,
                Err(e) => RelayOutcome::Transient(format!("cannot read the message: {e}")),
            },
        };
        if let Err(e) = core.outbound_result(job, outcome).await {
            tracing::error!(job = %job.id, error = %e, "cannot record the relay's answer");
        }
    }
    true
}
