//! Where a stage attempt runs: in this process (a thread), or in a child `tmu` process that
//! runs one [`JobSpec`] and reports its events and outcome as JSON lines. A child that crashes
//! (a segfault, an abort, the out-of-memory killer) fails its stage alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use tmu_plugin::protocol::{ErrorKind, WireError};

use super::attempt::{Env, Job, JobResult, record_failure, run_job};
use super::job::{ChildMessage, JobOutcome, JobSpec};
use super::types::Event;
use crate::record::{Status, Timing};
use crate::store::RunsDir;
use crate::time::now_us;

/// The hidden `tmu` subcommand a child runs.
pub const CHILD_SUBCOMMAND: &str = "__stage";

/// Where stage attempts run.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Executor {
    /// A thread of this process (the default: no start-up cost; a plugin that crashes the
    /// process ends the run).
    #[default]
    InProcess,
    /// A child process per attempt: `tmu` is the binary that runs `tmu __stage` (normally the
    /// running `tmu` itself).
    Process { tmu: PathBuf },
    /// A Slurm job per stage instance (see `exec/slurm.rs`): the graph is submitted at once.
    Slurm(super::slurm::SlurmConfig),
}

impl Executor {
    pub fn name(&self) -> &'static str {
        match self {
            Executor::InProcess => "in-process",
            Executor::Process { .. } => "process",
            Executor::Slurm(_) => "slurm",
        }
    }

    /// Runs one attempt to the end.
    pub(super) fn run(&self, env: &Env, job: Job) -> JobResult {
        match self {
            Executor::InProcess => run_job(env, job),
            Executor::Process { tmu } => run_in_child(env, job, tmu),
            // A Slurm run submits its jobs itself (`run_plan_slurm`) and never gets here.
            Executor::Slurm(_) => {
                JobResult::Failed(job.host_failure("a Slurm job cannot run inside this process".into()))
            }
        }
    }
}

/// What of the child's standard error a failure quotes: its first and last bytes (the first
/// line says what happened, a backtrace may follow).
const STDERR_HEAD: usize = 1024;
const STDERR_TAIL: usize = 3072;

fn run_in_child(env: &Env, job: Job, tmu: &Path) -> JobResult {
    let spec = JobSpec::of(env.pipeline, &job);
    let failure = |message: String| JobResult::Failed(job.host_failure(message));
    let body = match serde_json::to_vec(&spec) {
        Ok(b) => b,
        Err(e) => return failure(format!("cannot serialise the stage request: {e}")),
    };
    let mut cmd = Command::new(tmu);
    cmd.arg(CHILD_SUBCOMMAND).arg("--runs-dir").arg(env.runs.root());
    if !env.runs.verifies() {
        cmd.arg("--trust-cache");
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = now_us();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failure(format!("cannot start {} for the stage: {e}", tmu.display())),
    };
    let pid = child.id();
    // A child that dies before reading its request closes the pipe: the exit status says why.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&body);
    }
    let (stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    // Set once the child is reaped, under the lock the watcher signals under: a signal never
    // reaches a process that took over the pid.
    let reaped = Mutex::new(false);
    let timed_out = AtomicBool::new(false);
    let (outcome, tail) = std::thread::scope(|s| {
        let tail = s.spawn(move || {
            let mut buf = Vec::new();
            if let Some(e) = stderr.as_mut() {
                let _ = e.read_to_end(&mut buf);
            }
            if buf.len() <= STDERR_HEAD + STDERR_TAIL {
                return String::from_utf8_lossy(&buf).trim().to_string();
            }
            let (head, tail) = (&buf[..STDERR_HEAD], &buf[buf.len() - STDERR_TAIL..]);
            format!("{} [...] {}", String::from_utf8_lossy(head).trim(), String::from_utf8_lossy(tail).trim())
        });
        // Ctrl-C reaches the child with the terminal's process group; a cancel for any other
        // reason is passed on here. Past its timeout the child is asked to stop, then killed.
        s.spawn(|| {
            let begun = Instant::now();
            let mut sent = false;
            loop {
                {
                    let reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
                    if *reaped {
                        break;
                    }
                    if !sent && env.cancel.load(Ordering::SeqCst) {
                        signal(pid, Signal::Terminate);
                        sent = true;
                    }
                    if let Some(t) = job.stage.timeout {
                        let over = begun.elapsed().saturating_sub(t);
                        if over > Duration::ZERO && !timed_out.swap(true, Ordering::SeqCst) {
                            signal(pid, Signal::Terminate);
                        }
                        if over > KILL_GRACE {
                            signal(pid, Signal::Kill);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let mut outcome = None;
        for line in stdout.map(BufReader::new).into_iter().flat_map(|r| r.lines()) {
            let Ok(line) = line else { break };
            match serde_json::from_str::<ChildMessage>(&line) {
                Ok(ChildMessage::Event(e)) => {
                    let _ = env.events.send(e);
                }
                Ok(ChildMessage::Result(r)) => outcome = Some(r),
                // A plugin writing to standard output: keep it in the stage's log.
                Err(_) => {
                    let _ = env.events.send(Event::Log {
                        stage: job.stage.name.clone(),
                        level: tmu_plugin::LogLevel::Info,
                        message: line,
                    });
                }
            }
        }
        let status = loop {
            let mut r = reaped.lock().unwrap_or_else(|e| e.into_inner());
            match child.try_wait() {
                Ok(Some(status)) => {
                    *r = true;
                    break Ok(status);
                }
                Ok(None) => {}
                Err(e) => {
                    *r = true;
                    break Err(e);
                }
            }
            drop(r);
            std::thread::sleep(Duration::from_millis(20));
        };
        (outcome.map(Ok).unwrap_or(Err(status)), tail.join().unwrap_or_default())
    });
    let timed_out = timed_out.load(Ordering::SeqCst) && !env.cancel.load(Ordering::SeqCst);
    match outcome {
        // A child that stopped when asked at its deadline reports a cancel: it is a timeout.
        Ok(JobOutcome::Cancelled) if timed_out => {
            let t = job.stage.timeout.unwrap_or_default();
            let error = super::attempt::timed_out(&job.stage.name, &job.stage.kind, t, "its process was asked to stop");
            JobResult::Failed(job.failure(error))
        }
        Ok(outcome) => outcome.into_result(job.failure(WireError::new(ErrorKind::Failed, String::new()))),
        Err(status) => {
            let why = match status {
                Ok(status) => describe_exit(status),
                Err(e) => format!("could not be waited for ({e})"),
            };
            let mut error = match job.stage.timeout.filter(|_| timed_out) {
                Some(t) => super::attempt::timed_out(
                    &job.stage.name,
                    &job.stage.kind,
                    t,
                    &format!("it did not stop when asked, and its process (pid {pid}) {why}"),
                ),
                None => WireError::new(
                    ErrorKind::Failed,
                    format!("stage `{}` ({}): its process (pid {pid}) {why}", job.stage.name, job.stage.kind),
                ),
            };
            if !tail.is_empty() {
                error.causes.push(format!("its standard error: {tail}"));
            }
            error.help = Some(format!(
                "the stage ran in its own process (`--executor process`), so only it failed; plugin `{}` from {}",
                job.plugin.description.name,
                job.plugin.path.display()
            ));
            let cancelled = env.cancel.load(Ordering::SeqCst);
            let status = if cancelled { Status::Cancelled } else { Status::Failed };
            record_failure(env, &job, status, Timing::new(started, now_us()), &error);
            // The dead child's attempt folder can go now rather than at the next run.
            let _ = env.runs.clean_dead();
            let _ = env.events.send(Event::Failed {
                stage: job.stage.name.clone(),
                message: error.chain_line(),
                cancelled,
            });
            if cancelled { JobResult::Cancelled } else { JobResult::Failed(job.failure(error)) }
        }
    }
}

/// How long a child past its timeout has to stop after SIGTERM before it is killed.
const KILL_GRACE: Duration = Duration::from_secs(10);

enum Signal {
    /// SIGTERM: the child's cancellation handler lets the stage stop cleanly.
    Terminate,
    /// SIGKILL: for a child that does not stop.
    Kill,
}

fn signal(pid: u32, signal: Signal) {
    #[cfg(unix)]
    {
        let sig = match signal {
            Signal::Terminate => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        // SAFETY: kill(2) with the pid of a child this process has not reaped yet (the caller
        // holds the lock under which it is reaped).
        unsafe {
            libc::kill(pid as libc::pid_t, sig);
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}

/// `exited with status 3`, `was killed by signal 11 (SIGSEGV: an invalid memory access)`.
fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => " (SIGILL: an illegal instruction)",
                6 => " (SIGABRT: the process aborted)",
                7 => " (SIGBUS: a bad memory access)",
                8 => " (SIGFPE: an arithmetic fault)",
                9 => " (SIGKILL: killed, by the kernel's out-of-memory killer or by a user)",
                11 => " (SIGSEGV: an invalid memory access)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code} without reporting a result"),
        None => "ended without reporting a result".into(),
    }
}

/// The child side: runs `spec` against the runs folder and writes its events and outcome to
/// `out` as JSON lines (`ChildMessage`). `cancel` is set by the child's signal handler.
pub fn run_child(spec: &JobSpec, runs: &RunsDir, cancel: &AtomicBool, out: &mut (dyn Write + Send)) {
    let outcome = match child_job(spec, runs, cancel, out) {
        Ok(outcome) => outcome,
        Err(message) => JobOutcome::Failed { error: WireError::new(ErrorKind::Failed, message) },
    };
    write_line(out, &ChildMessage::Result(outcome));
}

fn child_job(
    spec: &JobSpec,
    runs: &RunsDir,
    cancel: &AtomicBool,
    out: &mut (dyn Write + Send),
) -> Result<JobOutcome, String> {
    let plugin = crate::loader::load(&spec.plugin_file).map_err(|e| e.to_string())?;
    if plugin.binary_hash != spec.plugin_blake3 {
        return Err(format!(
            "plugin {} changed after the run started (its hash differs): rerun to use the new build",
            spec.plugin_file.display()
        ));
    }
    let stage = spec.planned_stage()?;
    let job = spec.job(&stage, &plugin);
    let (tx, rx) = channel::<Event>();
    let result = std::thread::scope(|s| {
        let forward = s.spawn(move || {
            for event in rx {
                write_line(out, &ChildMessage::Event(event));
            }
        });
        let env = Env { pipeline: &spec.pipeline, runs, events: &tx, cancel };
        let result = catch_unwind(AssertUnwindSafe(|| run_job(&env, job)));
        drop(tx);
        let _ = forward.join();
        result
    });
    let result = result.map_err(|_| "the host panicked while running this stage".to_string())?;
    Ok(JobOutcome::of(&result))
}

pub(super) fn write_line(out: &mut (dyn Write + Send), message: &ChildMessage) {
    if let Ok(mut line) = serde_json::to_vec(message) {
        line.push(b'\n');
        let _ = out.write_all(&line);
        let _ = out.flush();
    }
}
