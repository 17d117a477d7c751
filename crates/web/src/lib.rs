//! sesame-web: the local web app for the people who forgot their backup password.
//!
//! [`start`] binds 127.0.0.1 (a free port unless one is given), and serves the embedded page
//! (`assets/`) and a JSON API over the same library calls as the command line: the backups
//! found (`sesame_backup::locate`), a password check, the macOS Keychain item, the plan and its
//! times (`sesame_crack::estimate`), the search (`sesame_crack::recover`), and the data back
//! (`sesame_backup::write`, `sesame_export`, `sesame_backup::keychain`). Every request passes
//! [`security::Guard`] first. Nothing here prints or exits: the caller prints
//! [`Running::url`] and waits in [`Running::wait`].

pub mod api;
pub mod jobs;
pub mod search;
pub mod security;

use security::{Admit, Guard, RequestView};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Errors of the web app.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

/// How the app runs. [`Config::new`] gives the defaults of `sesame web`.
#[derive(Clone, Debug)]
pub struct Config {
    /// 0: a free port.
    pub port: u16,
    /// Folders to look for backups in, beside the default ones.
    pub roots: Vec<PathBuf>,
    /// Look in the default folders of Finder/iTunes too.
    pub default_roots: bool,
    /// Where searches keep their hints for a resume after a restart.
    pub searches_dir: PathBuf,
    pub sessions_dir: PathBuf,
    pub potfile: PathBuf,
    /// Where copies and exports go unless the person names another folder.
    pub output_dir: PathBuf,
    /// Folder picker's first folder.
    pub home: PathBuf,
    /// CPU threads for the search (0: every core).
    pub threads: usize,
    pub gpus: bool,
    /// macOS's `security` tool (None: no Keychain lookup on this system).
    pub security_tool: Option<PathBuf>,
    pub progress_interval: Duration,
    pub checkpoint_interval: Duration,
    /// How long the devices are timed for the plan's estimates.
    pub measure: Duration,
    /// Where usbmuxd is, for a connected phone (None: USBMUXD_SOCKET_ADDRESS or the default).
    pub usbmuxd: Option<sesame_device::MuxAddr>,
    /// The CPU kernel calibration cache (the data folder's `kernels.json`).
    pub kernel_cache: PathBuf,
}

impl Config {
    pub fn new() -> Config {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let data = sesame_crack::paths::data_dir();
        Config {
            port: 0,
            roots: Vec::new(),
            default_roots: true,
            searches_dir: data.join("web-searches"),
            sessions_dir: sesame_crack::paths::sessions_dir(),
            potfile: sesame_crack::Potfile::default_path(),
            output_dir: home.join("Sesame"),
            home,
            threads: 0,
            gpus: true,
            security_tool: sesame_crack::macos_keychain::default_tool().map(PathBuf::from),
            progress_interval: Duration::from_secs(1),
            checkpoint_interval: Duration::from_secs(30),
            measure: Duration::from_millis(300),
            usbmuxd: None,
            kernel_cache: sesame_crack::choice::cache_path(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// A running server.
pub struct Running {
    addr: SocketAddr,
    guard: Guard,
    server: Arc<tiny_http::Server>,
    app: Arc<api::App>,
    workers: Vec<JoinHandle<()>>,
}

impl Running {
    /// The address to open first: it carries the token.
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.guard.token)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn token(&self) -> &str {
        &self.guard.token
    }

    /// Set when the page's "Quit" was pressed.
    pub fn quit_requested(&self) -> bool {
        self.app.quit.load(Ordering::SeqCst)
    }

    /// Asks the server to stop (as "Quit" on the page does).
    pub fn request_stop(&self) {
        self.app.quit.store(true, Ordering::SeqCst);
    }

    /// Waits until "Quit" or [`Running::request_stop`] or `stop_flag`, then stops the search
    /// (its checkpoint is saved) and the server.
    pub fn wait(mut self, stop_flag: Option<Arc<AtomicBool>>) {
        while !self.quit_requested()
            && !stop_flag.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.app.quit.store(true, Ordering::SeqCst);
        self.app.stop_all();
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Request-handling threads: the page polls while a plan is measured or a password checked.
const WORKERS: usize = 4;

/// The largest request body taken (the API's bodies are a few kilobytes).
const MAX_BODY: u64 = 1 << 20;

/// Starts the server on 127.0.0.1.
pub fn start(cfg: Config) -> Result<Running, WebError> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, cfg.port)).map_err(|source| WebError::Listen {
            port: cfg.port,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let server = Arc::new(
        tiny_http::Server::from_listener(listener, None)
            .map_err(|e| WebError::Internal(e.to_string()))?,
    );
    let guard = Guard::new(addr.port());
    let app = Arc::new(api::App::new(cfg));
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (server, app, guard) = (server.clone(), app.clone(), guard.clone());
        workers.push(std::thread::spawn(move || loop {
            if app.quit.load(Ordering::SeqCst) {
                break;
            }
            match server.recv_timeout(Duration::from_millis(200)) {
                Ok(Some(rq)) => handle(rq, &guard, &app),
                Ok(None) => {}
                Err(_) => break,
            }
        }));
    }
    Ok(Running {
        addr,
        guard,
        server,
        app,
        workers,
    })
}

fn header<'a>(rq: &'a tiny_http::Request, name: &str) -> Option<&'a str> {
    rq.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A response: status, content type, body, extra headers.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, v: &serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(v).unwrap_or_default(),
            headers: Vec::new(),
        }
    }

    pub fn error(status: u16, msg: &str) -> Reply {
        Reply::json(status, &serde_json::json!({ "error": msg }))
    }
}

fn handle(mut rq: tiny_http::Request, guard: &Guard, app: &api::App) {
    let url = rq.url().to_string();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (url.clone(), None),
    };
    let method = rq.method().as_str().to_string();
    let view = RequestView {
        method: &method,
        path: &path,
        query: query.as_deref(),
        host: header(&rq, "Host"),
        origin: header(&rq, "Origin"),
        cookie: header(&rq, "Cookie"),
        content_type: header(&rq, "Content-Type"),
    };
    let reply = match guard.check(&view) {
        Err(refusal) => {
            if path.starts_with("/api/") {
                Reply::error(refusal.status(), refusal.message())
            } else {
                Reply {
                    status: refusal.status(),
                    content_type: "text/html; charset=utf-8",
                    body: refused_page(refusal.message()).into_bytes(),
                    headers: Vec::new(),
                }
            }
        }
        Ok(Admit::Exchange) => Reply {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            body: b"signed in".to_vec(),
            headers: vec![
                ("Location".into(), path.clone()),
                ("Set-Cookie".into(), guard.set_cookie()),
            ],
        },
        Ok(Admit::Serve) => {
            let mut body = Vec::new();
            let read = rq.as_reader().take(MAX_BODY + 1).read_to_end(&mut body);
            if read.is_err() {
                Reply::error(400, "the request could not be read")
            } else if body.len() as u64 > MAX_BODY {
                Reply::error(413, "the request is too large")
            } else {
                app.route(&method, &path, &body)
            }
        }
    };
    let mut resp = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    let mut add = |k: &str, v: &str| {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            resp.add_header(h);
        }
    };
    add("Content-Type", reply.content_type);
    // A reply may bring its own (stricter or different) policy: the export's pages.
    let own_csp = reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Content-Security-Policy"));
    for (k, v) in security::SECURITY_HEADERS {
        if !(own_csp && k == "Content-Security-Policy") {
            add(k, v);
        }
    }
    for (k, v) in &reply.headers {
        add(k, v);
    }
    let _ = rq.respond(resp);
}

fn refused_page(msg: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sesame</title></head>\
         <body><h1>Sesame</h1><p>{}</p></body></html>",
        api::html_escape(msg)
    )
}
