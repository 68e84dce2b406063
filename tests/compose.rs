//! docker-compose.yml cannot run here, so this checks what it names against the binary: every
//! `faultline` command parses, every mounted file exists, every config it runs with loads, the
//! simulator's written config loads, and the published ports are the ones the configs listen on.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_faultline");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compose() -> Value {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(repo().join("docker-compose.yml"))
        .output()
        .expect("python3 with PyYAML must be installed (tests/run installs it into .venv)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1).cloned())
}

/// The host file mounted at `target` by a `./host:target[:ro]` volume.
fn mounted(service: &Value, target: &str) -> Option<PathBuf> {
    strings(&service["volumes"]).into_iter().find_map(|volume| {
        let mut parts = volume.split(':');
        let (host, inside) = (parts.next()?, parts.next()?);
        (inside == target && host.starts_with("./")).then(|| repo().join(&host[2..]))
    })
}

fn listen_port(config: &Path) -> u16 {
    let text = std::fs::read_to_string(config).unwrap();
    let table: toml::Value = toml::from_str(&text).unwrap();
    let listen = table["server"]["listen"]
        .as_str()
        .expect("[server] listen is set");
    listen.rsplit(':').next().unwrap().parse().unwrap()
}

fn published_container_port(service: &Value) -> u16 {
    let ports = strings(&service["ports"]);
    let port = ports.first().expect("the service publishes its API port");
    port.rsplit(':').next().unwrap().parse().unwrap()
}

fn assert_config_loads(config: &Path) {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data.path())
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} does not load: {}",
        config.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_command_parses_with_the_binary() {
    let compose = compose();
    let services = compose["services"].as_object().unwrap();
    assert!(services.contains_key("faultline") && services.contains_key("sim"));
    for (name, service) in services {
        let command = strings(&service["command"]);
        assert_eq!(
            command.first().map(String::as_str),
            Some("faultline"),
            "{name}"
        );
        let status = Command::new(BIN)
            .args(&command[1..])
            .arg("--help")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{name}: `{}` does not parse",
            command.join(" ")
        );
    }
}

#[test]
fn the_serve_service_runs_with_a_mounted_config_listening_on_the_published_port() {
    let compose = compose();
    let service = &compose["services"]["faultline"];
    let command = strings(&service["command"]);
    let config_path = flag(&command, "--config").expect("serve is given --config");
    let config = mounted(service, &config_path).expect("the config file is mounted from the repo");
    assert!(config.exists(), "{} is missing", config.display());
    assert_config_loads(&config);
    assert_eq!(listen_port(&config), published_container_port(service));
}

#[test]
fn the_simulator_writes_a_config_the_demo_service_loads() {
    let compose = compose();
    let sim = &compose["services"]["sim"];
    let demo = &compose["services"]["faultline-demo"];
    let args = strings(&sim["command"]);
    let public_url = flag(&args, "--public-url").unwrap();
    let listen = flag(&args, "--listen").unwrap();
    assert_eq!(
        public_url.rsplit(':').next(),
        listen.rsplit(':').next(),
        "the simulator's public URL names the port it listens on"
    );
    assert_eq!(
        flag(&args, "--write-config"),
        flag(&strings(&demo["command"]), "--config"),
        "the demo service reads the config the simulator writes"
    );
    let base = mounted(sim, &flag(&args, "--config-base").unwrap()).unwrap();
    assert_eq!(listen_port(&base), published_container_port(demo));

    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("faultline.toml");
    let mut child = Command::new(BIN)
        .args([
            "sim",
            "serve",
            "--scenario",
            "database",
            "--history",
            "1h",
            "--scale",
            "0.1",
        ])
        .args(["--listen", "127.0.0.1:0", "--public-url", &public_url])
        .arg("--secrets-dir")
        .arg(dir.path().join("secrets"))
        .arg("--config-base")
        .arg(&base)
        .arg("--write-config")
        .arg(&written)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !written.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&written).expect("the simulator wrote the config");
    assert!(
        text.contains(&format!("base_url = \"{public_url}/sentry\"")),
        "{text}"
    );
    assert_config_loads(&written);
}
