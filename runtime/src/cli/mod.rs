//! The `caliopen` command line. Commands that change a node go through the admin API
//! when a server of this configuration is running (its admin listener answers), and
//! open the store directly otherwise; the output is the same either way.

mod component;
mod import;
mod remote;
mod user;

use std::path::PathBuf;

use anyhow::Context;
use caliopen_core::Core;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::server;

pub use remote::Admin;

#[derive(Debug, Parser)]
#[command(
    name = "caliopen",
    version,
    about = "Caliopen: private, unified messaging"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "CALIOPEN_CONFIG",
        default_value = "configs/caliopen.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: LMTP in, REST API out, components in between.
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Deploy, list, roll back and shadow components.
    #[command(subcommand)]
    Component(component::ComponentCommand),
    /// Rebuild the search index from the stored records (server stopped).
    Reindex,
    /// Import mail: mbox files (plain or gzip), maildirs, folders of .eml files.
    Import(import::ImportArgs),
    /// Deliveries that could not be processed.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined deliveries with their reason.
    List,
    /// Put a quarantined delivery back in the queue.
    Replay { delivery_id: uuid::Uuid },
}

/// Where a command runs: on the live server, or on the store of a stopped one.
#[derive(Debug)]
pub enum Target {
    Remote(Admin),
    Local(Core),
}

/// Runs one command.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::User(cmd) => with_target(&config, |t| user::run(cmd, t)).await,
        Command::Component(cmd) => with_target(&config, |t| component::run(cmd, t, &config)).await,
        Command::Reindex => {
            if Admin::running(&config).is_some() {
                anyhow::bail!(
                    "stop the server first: reindex rebuilds the index from the records it holds open"
                );
            }
            local(&config, |core| async move { reindex(core).await }).await
        }
        Command::Quarantine(cmd) => with_target(&config, |t| quarantine(cmd, t)).await,
        Command::Import(args) => import::run(args, &config).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = server::start(config).await?;
    running
        .run_until(async {
            wait_for_signal().await;
            tracing::info!("shutting down");
        })
        .await
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

async fn with_target<F, Fut>(config: &Config, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Target) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    match Admin::running(config) {
        Some(admin) => {
            f(Target::Remote(
                admin.with_token(&crate::admin::admin_token(config)?),
            ))
            .await
        }
        None => local(config, |core| f(Target::Local(core))).await,
    }
}

/// Runs on the store directly, then closes it cleanly.
async fn local<F, Fut>(config: &Config, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Core) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let storage = server::open_storage(config).await?;
    let core = Core::new(storage.stores(), config.core.clone());
    let result = f(core).await;
    storage.close().await.context("closing the store")?;
    result
}

async fn reindex(core: Core) -> anyhow::Result<()> {
    let mut last_report = std::time::Instant::now();
    let done = core
        .reindex(|p| {
            if last_report.elapsed().as_millis() >= 500 || p.users_done == p.users_total {
                eprintln!(
                    "reindex: {}/{} users, {} messages, {} contacts",
                    p.users_done, p.users_total, p.messages, p.contacts
                );
                last_report = std::time::Instant::now();
            }
        })
        .await?;
    println!(
        "reindexed {} messages and {} contacts of {} users",
        done.messages, done.contacts, done.users_total
    );
    Ok(())
}

async fn quarantine(cmd: QuarantineCommand, target: Target) -> anyhow::Result<()> {
    match (cmd, target) {
        (QuarantineCommand::List, target) => {
            let entries = match target {
                Target::Local(core) => serde_json::to_value(core.quarantined().await?)?,
                Target::Remote(admin) => admin.get("/admin/quarantine")?["quarantine"].take(),
            };
            let entries = entries.as_array().cloned().unwrap_or_default();
            if entries.is_empty() {
                println!("no quarantined delivery");
            }
            for q in entries {
                println!(
                    "{}\tuser {}\t{}\t{}: {}",
                    q["delivery"]["id"].as_str().unwrap_or_default(),
                    q["delivery"]["user_id"].as_str().unwrap_or_default(),
                    q["quarantined_at"].as_str().unwrap_or_default(),
                    q["stage"].as_str().unwrap_or_default(),
                    q["reason"].as_str().unwrap_or_default()
                );
            }
        }
        (QuarantineCommand::Replay { delivery_id }, Target::Local(core)) => {
            core.replay(delivery_id).await?;
        }
        (QuarantineCommand::Replay { delivery_id }, Target::Remote(admin)) => {
            admin.post(
                &format!("/admin/quarantine/{delivery_id}/replay"),
                &serde_json::json!({}),
            )?;
        }
    }
    Ok(())
}
