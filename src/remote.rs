//! The CLI over a running `faultline serve`: the same questions, asked over its HTTP API.

use std::time::Duration;

use anyhow::Context;
use arrow::array::RecordBatch;
use reqwest::header::ACCEPT;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::UsageError;
use crate::cli::RemoteArgs;

const TIMEOUT: Duration = Duration::from_secs(120);
const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

pub struct Remote {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Remote {
    /// `None` when no server was given: the command then works on the data directory.
    pub fn from_args(args: &RemoteArgs) -> anyhow::Result<Option<Remote>> {
        let Some(server) = &args.server else {
            return Ok(None);
        };
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(UsageError(format!(
                "--server {server:?}: write it as a URL, e.g. http://127.0.0.1:7070"
            ))
            .into());
        }
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Some(Remote {
            base,
            token: args.token.clone(),
            client,
        }))
    }

    /// GET `path` with `query` and decode the JSON answer.
    pub fn get<T: DeserializeOwned>(
        &self,
        runtime: &Runtime,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let request = self.client.get(format!("{}{path}", self.base)).query(query);
        let bytes = runtime.block_on(self.send(request))?;
        serde_json::from_slice(&bytes).context("the server's answer is not what faultline expects")
    }

    /// Runs SQL on the server and decodes its Arrow IPC answer.
    pub fn sql(&self, runtime: &Runtime, query: &str) -> anyhow::Result<Vec<RecordBatch>> {
        let request = self
            .client
            .post(format!("{}/v1/sql", self.base))
            .header(ACCEPT, ARROW_STREAM)
            .json(&serde_json::json!({ "query": query }));
        let bytes = runtime.block_on(self.send(request))?;
        let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
            .context("reading the server's Arrow answer")?;
        Ok(reader.collect::<Result<Vec<_>, _>>()?)
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> anyhow::Result<bytes::Bytes> {
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("cannot reach {}: {}", self.base, err.without_url()))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(api_error(status, &bytes))
    }
}

/// The server's `{"error": {...}}` as an error for the user; a 400 is a usage error.
fn api_error(status: reqwest::StatusCode, body: &[u8]) -> anyhow::Error {
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &answer["error"];
    let mut message = error["message"]
        .as_str()
        .map_or_else(|| format!("the server answered {status}"), str::to_string);
    if let Some(hint) = error["hint"].as_str() {
        message.push_str(&format!(" ({hint})"));
    }
    if status.is_client_error() {
        UsageError(message).into()
    } else {
        anyhow::anyhow!(message)
    }
}
