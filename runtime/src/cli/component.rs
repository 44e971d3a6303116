//! `caliopen component deploy|list|rollback|promote|activate|history|shadow`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use base64::Engine as _;
use caliopen_core::Core;
use clap::Subcommand;
use serde_json::{Value, json};

use super::Target;
use crate::config::Config;
use crate::pipeline::Slots;
use crate::registry::Registry;
use crate::wasm::WasmEngine;

#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Deploy a component version and make it active in its slot.
    Deploy {
        /// The component's manifest (TOML).
        manifest: PathBuf,
        /// The component (`.wasm`).
        wasm: PathBuf,
        /// Run it in shadow of the active qualifier instead (compare, do not apply).
        #[arg(long)]
        shadow: bool,
    },
    /// Every slot with its active version and shadow candidate.
    List,
    /// Go back to the version active before the current one.
    Rollback { slot: String },
    /// Make a slot's shadow candidate its active version.
    Promote { slot: String },
    /// Make a stored version of a slot's component active.
    Activate { slot: String, version: String },
    /// What happened to a slot.
    History { slot: String },
    /// The shadow report of a slot (running server only).
    Shadow { slot: String },
}

fn local_registry(core: Core, config: &Config) -> anyhow::Result<Registry> {
    let engine = Arc::new(WasmEngine::new(&config.wasm)?);
    Ok(Registry::new(
        core,
        engine,
        Arc::new(Slots::default()),
        config.data_dir.join("component-cache"),
    )
    .with_max_message_size(config.lmtp.max_message_size))
}

pub async fn run(cmd: ComponentCommand, target: Target, config: &Config) -> anyhow::Result<()> {
    let answer: Value = match (cmd, target) {
        (
            ComponentCommand::Deploy {
                manifest,
                wasm,
                shadow,
            },
            target,
        ) => {
            let text = std::fs::read_to_string(&manifest)
                .with_context(|| format!("cannot read {}", manifest.display()))?;
            let bytes =
                std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
            match target {
                Target::Local(core) => json!(
                    local_registry(core, config)?
                        .deploy(&text, bytes, shadow)
                        .await?
                ),
                Target::Remote(admin) => admin.post(
                    "/admin/components",
                    &json!({
                        "manifest": text,
                        "wasm": base64::engine::general_purpose::STANDARD.encode(bytes),
                        "shadow": shadow,
                    }),
                )?,
            }
        }
        (ComponentCommand::List, Target::Local(core)) => json!({ "slots": core.slots().await? }),
        (ComponentCommand::List, Target::Remote(admin)) => admin.get("/admin/slots")?,
        (ComponentCommand::Rollback { slot }, Target::Local(core)) => {
            json!(local_registry(core, config)?.rollback(&slot).await?)
        }
        (ComponentCommand::Rollback { slot }, Target::Remote(admin)) => {
            admin.post(&format!("/admin/slots/{slot}/rollback"), &json!({}))?
        }
        (ComponentCommand::Promote { slot }, Target::Local(core)) => {
            json!(local_registry(core, config)?.promote(&slot).await?)
        }
        (ComponentCommand::Promote { slot }, Target::Remote(admin)) => {
            admin.post(&format!("/admin/slots/{slot}/promote"), &json!({}))?
        }
        (ComponentCommand::Activate { slot, version }, Target::Local(core)) => {
            let state = core.slot(&slot).await?;
            let name = state
                .active
                .or(state.shadow)
                .and_then(|v| v.split_once('@').map(|(n, _)| n.to_owned()))
                .with_context(|| format!("slot `{slot}` has no component"))?;
            json!(
                local_registry(core, config)?
                    .activate(&name, &version, "activate")
                    .await?
            )
        }
        (ComponentCommand::Activate { slot, version }, Target::Remote(admin)) => admin.post(
            &format!("/admin/slots/{slot}/activate"),
            &json!({ "version": version }),
        )?,
        (ComponentCommand::History { slot }, Target::Local(core)) => json!(core.slot(&slot).await?),
        (ComponentCommand::History { slot }, Target::Remote(admin)) => {
            let all = admin.get("/admin/slots")?;
            all["slots"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["slot"] == slot.as_str()).cloned())
                .with_context(|| format!("slot `{slot}` was never used"))?
        }
        (ComponentCommand::Shadow { slot }, Target::Remote(admin)) => {
            admin.get(&format!("/admin/slots/{slot}/shadow"))?
        }
        (ComponentCommand::Shadow { .. }, Target::Local(_)) => {
            anyhow::bail!("shadow reports live in the running server: start it first")
        }
    };
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
