//! `sesame web [--port N] [--no-open] [--root DIR]`: the local web app. The first line of
//! standard output is the address to open (it carries the sign-in token); the browser is
//! opened on it unless --no-open. Ctrl-C, or "Quit" on the page, stops it; a search that is
//! running saves its checkpoint first.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (default: a free one)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,
    /// Do not open the browser (open the printed address yourself)
    #[arg(long)]
    pub no_open: bool,
    /// Also look for backups in this folder; repeatable
    #[arg(long, value_name = "DIR")]
    pub root: Vec<PathBuf>,
    /// Where copies and exports go (default: a folder named Sesame in your home folder)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// CPU threads for the search (default: every core)
    #[arg(long, value_name = "N")]
    pub threads: Option<u32>,
    /// Compute on the CPU only (no GPU discovery)
    #[arg(long)]
    pub cpu_only: bool,
    /// Do not look in the default backup folders (for tests and demos)
    #[arg(long, hide = true)]
    pub no_default_roots: bool,
    /// The macOS `security` tool to ask for the Keychain item (tests give a stand-in)
    #[arg(long, value_name = "PATH", hide = true)]
    pub security_tool: Option<PathBuf>,
    /// Milliseconds of measuring for the plan's times
    #[arg(long, value_name = "MS", default_value_t = 300, hide = true)]
    pub measure_ms: u64,
    /// Seconds between checkpoints
    #[arg(long, value_name = "SECS", default_value_t = 30.0, hide = true)]
    pub checkpoint_interval: f64,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    for r in &args.root {
        if !r.is_dir() {
            anyhow::bail!("--root {}: not a folder", r.display());
        }
    }
    if args.checkpoint_interval.is_nan() || args.checkpoint_interval <= 0.0 {
        anyhow::bail!("--checkpoint-interval must be positive");
    }
    let mut cfg = sesame_web::Config::new();
    cfg.port = args.port;
    cfg.roots = args.root;
    cfg.default_roots = !args.no_default_roots;
    if let Some(o) = args.out_dir {
        cfg.output_dir = o;
    }
    cfg.threads = crate::devices::capped_threads(args.threads);
    cfg.gpus = !args.cpu_only;
    if args.security_tool.is_some() {
        cfg.security_tool = args.security_tool;
    }
    cfg.measure = Duration::from_millis(args.measure_ms.max(1));
    cfg.checkpoint_interval = Duration::from_secs_f64(args.checkpoint_interval);
    let server = sesame_web::start(cfg).map_err(|e| match e {
        sesame_web::WebError::Listen { port, .. } if port != 0 => anyhow::anyhow!(
            "{e}: another program uses port {port}; leave out --port to take a free one"
        ),
        e => e.into(),
    })?;
    let url = server.url();
    outln!("{url}");
    let _ = std::io::stdout().flush();
    eprintln!("sesame: the web app is running at the address above; Ctrl-C or \"Quit\" on the page stops it");
    if !args.no_open {
        if let Err(e) = open_browser(&url) {
            eprintln!("sesame: could not open the browser ({e}): open the address above yourself");
        }
    }
    let flag = crate::interrupt::flag()?;
    server.wait(Some(flag));
    eprintln!("sesame: stopped");
    Ok(0)
}

/// Opens the default browser on `url`.
fn open_browser(url: &str) -> anyhow::Result<()> {
    let mut c = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    c.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("no program to open it with")?;
    Ok(())
}
