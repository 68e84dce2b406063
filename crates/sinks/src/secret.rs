//! Secrets (signing secret, Slack webhook URL, bot token) read from the environment or a file.
//! The same pattern as `faultline_sources::secret`, kept here so this crate depends on
//! `faultline-model` only.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::SinkError;

/// A secret value. `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from, as written in the config (`*_env` or `*_file`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRef {
    pub env: Option<String>,
    pub file: Option<PathBuf>,
}

impl SecretRef {
    pub fn is_set(&self) -> bool {
        self.env.is_some() || self.file.is_some()
    }

    /// Reads the secret; `what` names the config key in errors (`sink "ops": secret`).
    pub fn resolve(&self, what: &str) -> Result<Secret, SinkError> {
        match (&self.env, &self.file) {
            (Some(var), _) => from_env(what, var),
            (None, Some(path)) => from_file(what, path),
            (None, None) => Err(SinkError::Secret(format!(
                "{what}: no secret configured; set the *_env key to the name of an environment variable, or the *_file key to a file"
            ))),
        }
    }
}

fn from_env(what: &str, var: &str) -> Result<Secret, SinkError> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(Secret(value.trim().to_string())),
        Ok(_) => Err(SinkError::Secret(format!(
            "{what}: the environment variable {var} is empty"
        ))),
        Err(_) => Err(SinkError::Secret(format!(
            "{what}: the environment variable {var} is not set; export it (or use the *_file key)"
        ))),
    }
}

fn from_file(what: &str, path: &Path) -> Result<Secret, SinkError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        SinkError::Secret(format!(
            "{what}: cannot read the secret file {}: {err}",
            path.display()
        ))
    })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(SinkError::Secret(format!(
            "{what}: the secret file {} is empty",
            path.display()
        )));
    }
    Ok(Secret(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let secret = Secret::new("whsec_abc123");
        assert_eq!(format!("{secret:?} {secret}"), "Secret(***) ***");
        assert_eq!(secret.expose(), "whsec_abc123");
    }

    #[test]
    fn reads_files_and_names_missing_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, " from-file \n").unwrap();
        let from_file = SecretRef {
            env: None,
            file: Some(path),
        };
        assert_eq!(from_file.resolve("t").unwrap().expose(), "from-file");
        let missing = SecretRef {
            env: Some("FAULTLINE_SINKS_TEST_UNSET".into()),
            file: None,
        };
        let err = missing.resolve("sink \"x\": secret").unwrap_err();
        assert!(
            err.to_string()
                .contains("FAULTLINE_SINKS_TEST_UNSET is not set")
        );
    }
}
