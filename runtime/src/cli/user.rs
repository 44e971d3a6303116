//! `caliopen user add|list`.

use std::io::Read as _;

use anyhow::bail;
use caliopen_core::service::users::NewUser;
use clap::Subcommand;
use serde_json::json;

use super::Target;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (and their local identity <username>@<default domain>).
    Add {
        username: String,
        /// The password; prefer --password-stdin so it stays out of the shell history.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Address for password recovery.
        #[arg(long)]
        recovery_email: Option<String>,
    },
    /// List users (server stopped).
    List,
}

pub async fn run(cmd: UserCommand, target: Target) -> anyhow::Result<()> {
    match (cmd, target) {
        (
            UserCommand::Add {
                username,
                password,
                password_stdin,
                recovery_email,
            },
            target,
        ) => {
            let password = match (password, password_stdin) {
                (Some(p), _) => p,
                (None, true) => {
                    let mut p = String::new();
                    std::io::stdin().read_to_string(&mut p)?;
                    p.trim_end_matches(['\r', '\n']).to_owned()
                }
                (None, false) => bail!("give the password with --password-stdin (or --password)"),
            };
            let (id, address) = match target {
                Target::Local(core) => {
                    let recovery_email = recovery_email
                        .unwrap_or_else(|| format!("{username}@{}", core.config().default_domain));
                    let user = core
                        .create_user(NewUser {
                            username: username.clone(),
                            password,
                            recovery_email,
                            ..NewUser::default()
                        })
                        .await?;
                    core.index_all_pending().await?;
                    (user.id.to_string(), user.local_identity)
                }
                Target::Remote(admin) => {
                    let v = admin.post(
                        "/admin/users",
                        &json!({"username": username, "password": password, "recovery_email": recovery_email}),
                    )?;
                    (
                        v["user_id"].as_str().unwrap_or_default().to_owned(),
                        v["address"].as_str().unwrap_or_default().to_owned(),
                    )
                }
            };
            println!("created user {username} ({id}), receiving mail as {address}");
        }
        (UserCommand::List, Target::Local(core)) => {
            for u in core.all_users().await? {
                println!("{}\t{}\t{}", u.id, u.username, u.local_identity);
            }
        }
        (UserCommand::List, Target::Remote(_)) => {
            bail!("`user list` reads the store: stop the server first")
        }
    }
    Ok(())
}
