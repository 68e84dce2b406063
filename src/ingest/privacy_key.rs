//! The key of the user hashes: from `[privacy] key_env` (default `FAULTLINE_PRIVACY_KEY`),
//! else `[privacy] key_file`, else `<data dir>/privacy.key`, generated (32 random bytes, hex,
//! mode 0600) on the first start. The key itself is never logged or put in an error.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;
use faultline_privacy::Redactor;

use crate::config::{Config, ConfigError, Redaction};

pub const DEFAULT_KEY_ENV: &str = "FAULTLINE_PRIVACY_KEY";
pub const KEY_FILE_NAME: &str = "privacy.key";

/// The redactor of this config, or `None` when redaction is off.
pub fn redactor(config: &Config, data_dir: &Path) -> anyhow::Result<Option<Redactor>> {
    if config.privacy.redaction == Redaction::Off {
        tracing::warn!(
            "[privacy] redaction is off: personal data and secrets are stored as they come"
        );
        return Ok(None);
    }
    let (key, origin) = key(config, data_dir)?;
    let redactor = Redactor::new(&key).map_err(|err| ConfigError {
        message: format!("privacy key from {origin}: {err}"),
    })?;
    Ok(Some(redactor))
}

/// The key's bytes and where they came from (for messages).
fn key(config: &Config, data_dir: &Path) -> anyhow::Result<(Vec<u8>, String)> {
    let env = config.privacy.key_env.as_deref().unwrap_or(DEFAULT_KEY_ENV);
    if let Some(value) = std::env::var_os(env).filter(|value| !value.is_empty()) {
        let text = value.to_string_lossy();
        return Ok((text.trim().as_bytes().to_vec(), format!("${env}")));
    }
    if config.privacy.key_env.is_some() {
        return Err(ConfigError {
            message: format!("[privacy] key_env names {env}, which is not set"),
        }
        .into());
    }
    if let Some(path) = &config.privacy.key_file {
        let key = read_key(path).map_err(|err| ConfigError {
            message: format!("cannot read [privacy] key_file {}: {err}", path.display()),
        })?;
        return Ok((key, path.display().to_string()));
    }
    let path = data_dir.join(KEY_FILE_NAME);
    if !path.exists() {
        generate_key(&path)?;
        tracing::info!(
            path = %path.display(),
            "generated a new privacy key (mode 0600): user ids are hashed with it; back it up \
             with the data, or set {DEFAULT_KEY_ENV} or [privacy] key_file to manage it yourself"
        );
    }
    warn_if_readable_by_others(&path);
    let key = read_key(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((key, path.display().to_string()))
}

fn read_key(path: &Path) -> std::io::Result<Vec<u8>> {
    let text = std::fs::read(path)?;
    Ok(text.trim_ascii().to_vec())
}

/// 32 random bytes as hex, written with mode 0600 and fsynced.
fn generate_key(path: &Path) -> anyhow::Result<()> {
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(hex.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            "the privacy key file can be read by other users; chmod 600 it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_generated_once_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default();
        let first = redactor(&config, dir.path()).unwrap().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = redactor(&config, dir.path()).unwrap().unwrap();
        assert_eq!(first.hash_user("a@b.io"), second.hash_user("a@b.io"));
    }

    #[test]
    fn a_key_file_is_used_and_a_short_one_refused_without_showing_it() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, "tiny-key\n").unwrap();
        let mut config = Config::default();
        config.privacy.key_file = Some(key_file.clone());
        let err = redactor(&config, dir.path()).unwrap_err().to_string();
        assert!(err.contains("at least 16"), "{err}");
        assert!(!err.contains("tiny-key"), "{err}");
        std::fs::write(&key_file, "a key that is long enough\n").unwrap();
        assert!(redactor(&config, dir.path()).unwrap().is_some());
        assert!(!dir.path().join(KEY_FILE_NAME).exists());
        config.privacy.redaction = Redaction::Off;
        assert!(redactor(&config, dir.path()).unwrap().is_none());
        config.privacy.redaction = Redaction::On;
        config.privacy.key_env = Some("FAULTLINE_TEST_SURELY_UNSET_KEY".into());
        let err = redactor(&config, dir.path()).unwrap_err().to_string();
        assert!(err.contains("not set"), "{err}");
    }
}
