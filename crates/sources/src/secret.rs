//! Secrets (tokens, API keys) read from the environment or a file, never written anywhere.

use std::fmt;
use std::path::{Path, PathBuf};

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

    /// Reads a secret from the environment variable `env`, or else from `file`.
    /// `what` names the config key in error messages (e.g. `source "sentry": token`).
    pub fn resolve(
        what: &str,
        env: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Secret, SecretError> {
        match (env, file) {
            (Some(var), _) => match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(Secret(value.trim().to_string())),
                Ok(_) => Err(SecretError(format!(
                    "{what}: the environment variable {var} is empty; export it with the token"
                ))),
                Err(_) => Err(SecretError(format!(
                    "{what}: the environment variable {var} is not set; export it with the token (or use a *_file key)"
                ))),
            },
            (None, Some(path)) => read_secret_file(what, path),
            (None, None) => Err(SecretError(format!(
                "{what}: no secret configured; set the *_env key to the name of an environment variable, or the *_file key to a file"
            ))),
        }
    }
}

fn read_secret_file(what: &str, path: &Path) -> Result<Secret, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        SecretError(format!(
            "{what}: cannot read the secret file {}: {err}",
            path.display()
        ))
    })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(SecretError(format!(
            "{what}: the secret file {} is empty",
            path.display()
        )));
    }
    Ok(Secret(value.to_string()))
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

/// A secret that could not be read; the message names the key and what to do.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(pub String);

/// Where a secret comes from, as written in the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRef {
    pub env: Option<String>,
    pub file: Option<PathBuf>,
}

impl SecretRef {
    pub fn resolve(&self, what: &str) -> Result<Secret, SecretError> {
        Secret::resolve(what, self.env.as_deref(), self.file.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let secret = Secret::new("sntrys_abc123");
        assert_eq!(format!("{secret:?} {secret}"), "Secret(***) ***");
        assert_eq!(secret.expose(), "sntrys_abc123");
    }

    #[test]
    fn missing_env_and_file_say_what_to_do() {
        let err = Secret::resolve(
            "source \"s\": token",
            Some("FAULTLINE_TEST_UNSET_VAR"),
            None,
        )
        .unwrap_err();
        assert!(
            err.0.contains("FAULTLINE_TEST_UNSET_VAR is not set"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  secret-from-file \n").unwrap();
        assert_eq!(
            Secret::resolve("t", None, Some(&path)).unwrap().expose(),
            "secret-from-file"
        );
        let err = Secret::resolve("t", None, Some(&dir.path().join("missing"))).unwrap_err();
        assert!(err.0.contains("cannot read the secret file"), "{err}");
    }
}
