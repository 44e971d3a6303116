//! The admin API as the CLI's client sees it.

use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, anyhow};
use serde_json::Value;

use crate::config::Config;

/// A running server's admin API.
#[derive(Debug, Clone)]
pub struct Admin {
    base: String,
    token: String,
}

impl Admin {
    /// The admin API of this configuration, when a server answers on it.
    pub fn running(config: &Config) -> Option<Self> {
        TcpStream::connect_timeout(&config.listen.admin, Duration::from_millis(300)).ok()?;
        Some(Self {
            base: format!("http://{}", config.listen.admin),
            token: String::new(),
        })
    }

    pub fn with_token(mut self, token: &str) -> Self {
        self.token = token.to_owned();
        self
    }

    fn answer(
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Value> {
        let mut response = result.context("the admin API did not answer")?;
        let status = response.status();
        let body: Value = response.body_mut().read_json().unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            Err(anyhow!(
                "{}: {}",
                status,
                body["error"].as_str().unwrap_or("no detail")
            ))
        }
    }

    /// Posts raw bytes with one agent (its connections kept alive across calls):
    /// the answer, or the status and error text the API answered.
    pub fn post_bytes(
        &self,
        agent: &ureq::Agent,
        path: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Result<Value, (u16, String)>> {
        let mut response = agent
            .post(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .content_type("application/octet-stream")
            .send(bytes)
            .context("the admin API did not answer")?;
        let status = response.status();
        let body: Value = response.body_mut().read_json().unwrap_or(Value::Null);
        Ok(if status.is_success() {
            Ok(body)
        } else {
            Err((
                status.as_u16(),
                body["error"].as_str().unwrap_or("no detail").to_owned(),
            ))
        })
    }

    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .into()
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        Self::answer(
            Self::agent()
                .get(&format!("{}{path}", self.base))
                .header("Authorization", &format!("Bearer {}", self.token))
                .call(),
        )
    }

    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        Self::answer(
            Self::agent()
                .post(&format!("{}{path}", self.base))
                .header("Authorization", &format!("Bearer {}", self.token))
                .send_json(body),
        )
    }
}
