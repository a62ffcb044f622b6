//! Running this test binary again as a child process, for behaviour that ends or hangs a
//! process (an abort, the watchdog's exit): the parent reads the child's output, and a child that
//! hangs is killed and reported instead of hanging the parent.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether this process is such a child (a `child_*` test runs its body only then).
pub fn is_child() -> bool {
    std::env::var("DETSIM_TEST_CHILD").is_ok()
}

/// Runs the test `name` of this binary in a child process with `vars` set (and every other
/// `DETSIM_*` variable removed), killing it after `limit`.
pub fn run_child(name: &str, vars: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("DETSIM_TEST_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("DETSIM_") && k != "DETSIM_TEST_CHILD" {
            cmd.env_remove(k);
        }
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "child {name} with {vars:?} still running after {limit:?}: a hang\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
