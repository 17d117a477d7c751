//! The web app's HTTP API and every security rule, over real HTTP on loopback, against backups
//! built by Sesame's own builder and the real keybags of ../shared/fixtures.

#[path = "../../device/tests/sim/mod.rs"]
mod sim;

use serde_json::{json, Value};
use sesame_backup::builder::BackupBuilder;
use sesame_backup::keychain::{ItemClass, ItemSpec};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Biscuit2016";

/// A private world for one server: backups, data folder, outputs.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn config(&self) -> sesame_web::Config {
        let mut c = sesame_web::Config::new();
        c.default_roots = false;
        c.roots = vec![self.path("backups")];
        c.searches_dir = self.path("data/web-searches");
        c.sessions_dir = self.path("data/sessions");
        c.potfile = self.path("data/sesame.potfile");
        c.kernel_cache = self.path("data/kernels.json");
        c.output_dir = self.path("out");
        c.home = self.dir.path().to_path_buf();
        c.threads = 1;
        c.gpus = false;
        c.security_tool = None;
        c.progress_interval = Duration::from_millis(100);
        c.checkpoint_interval = Duration::from_millis(200);
        c.measure = Duration::from_millis(30);
        c
    }
    /// An encrypted backup "Anna's iPhone" with a photo and a Wi-Fi password.
    fn backup(&self, name: &str, password: &str, sha256_iterations: u32) -> PathBuf {
        let dir = self.path("backups").join(name);
        BackupBuilder::new()
            .password(password)
            .iterations(10, Some(sha256_iterations))
            .device("Anna's iPhone", "iPhone14,2", "17.1")
            .udid(name)
            .dir("CameraRollDomain", "Media/DCIM/100APPLE")
            .file(
                "CameraRollDomain",
                "Media/DCIM/100APPLE/IMG_0001.HEIC",
                vec![0x5au8; 50_000],
            )
            .keychain(vec![ItemSpec::new(
                ItemClass::GenericPassword,
                7,
                &[("svce", "AirPort"), ("acct", "Home-WiFi")],
                b"CorgiCastle42",
            )])
            .write(&dir)
            .unwrap();
        dir
    }
}

/// A response: status, headers (lower-case names), body.
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// One raw HTTP/1.1 request, so that Host, Origin and Cookie can be anything.
fn raw(port: u16, request: &str, body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header end");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: buf[split + 4..].to_vec(),
    }
}

/// A client with the app's cookie, sending what Sesame's own page sends.
struct Client {
    port: u16,
    cookie: String,
}

impl Client {
    fn sign_in(server: &sesame_web::Running) -> Client {
        let port = server.port();
        let r = raw(
            port,
            &format!(
                "GET /?token={} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n",
                server.token()
            ),
            b"",
        );
        assert_eq!(r.status, 303);
        let cookie = r.header("set-cookie").unwrap();
        let value = cookie.split(';').next().unwrap().to_string();
        Client {
            port,
            cookie: value,
        }
    }
    fn get(&self, path: &str) -> Resp {
        raw(
            self.port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nCookie: {}\r\nConnection: close\r\n\r\n",
                self.port, self.cookie
            ),
            b"",
        )
    }
    fn post(&self, path: &str, body: &Value) -> Resp {
        let b = serde_json::to_vec(body).unwrap();
        raw(
            self.port,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nOrigin: http://127.0.0.1:{p}\r\nCookie: {}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                self.cookie,
                b.len(),
                p = self.port
            ),
            &b,
        )
    }
    fn ok(&self, path: &str, body: &Value) -> Value {
        let r = self.post(path, body);
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }
    fn backups(&self) -> Value {
        let r = self.get("/api/backups");
        assert_eq!(r.status, 200);
        r.json()
    }
    fn first_id(&self) -> String {
        self.backups()["backups"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    /// Polls until `done(status)` or panics after a minute.
    fn wait(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let t = Instant::now();
        loop {
            let v = self.get(path).json();
            if done(&v) {
                return v;
            }
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "{path} stuck at {v}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
        "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
    );
    eprintln!("SKIPPED: fixtures not found at {}", dir.display());
    None
}

#[test]
fn every_request_without_the_token_or_cookie_is_refused() {
    let w = World::new();
    w.backup("b1", PASSWORD, 10);
    let server = sesame_web::start(w.config()).unwrap();
    let port = server.port();
    assert!(server
        .url()
        .starts_with(&format!("http://127.0.0.1:{port}/?token=")));
    assert_eq!(server.token().len(), 64, "a 256-bit token");

    let get = |path: &str, extra: &str| {
        raw(
            port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
            ),
            b"",
        )
    };
    for path in ["/", "/app.js", "/api/backups", "/api/search", "/api/job"] {
        let r = get(path, "");
        assert_eq!(r.status, 401, "{path}");
        assert!(!String::from_utf8_lossy(&r.body).contains("Anna"), "{path}");
    }
    assert_eq!(get("/?token=00", "").status, 403);
    assert_eq!(
        get("/api/backups", "Cookie: sesame_session=forged\r\n").status,
        401
    );
    // The token is not a cookie.
    let as_cookie = format!("Cookie: sesame_session={}\r\n", server.token());
    assert_eq!(get("/api/backups", &as_cookie).status, 401);

    // The exchange: a cookie only scripts cannot read, never sent cross-site, and the
    // address bar loses the token.
    let r = get(&format!("/?token={}", server.token()), "");
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"));
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains(server.token()),
        "the cookie is not the token"
    );
    let c = Client::sign_in(&server);
    let page = c.get("/");
    assert_eq!(page.status, 200);
    assert!(!String::from_utf8_lossy(&page.body).contains(server.token()));
}

#[test]
fn host_origin_method_and_body_rules_hold_with_a_valid_cookie() {
    let w = World::new();
    w.backup("b1", PASSWORD, 10);
    let server = sesame_web::start(w.config()).unwrap();
    let c = Client::sign_in(&server);
    let port = server.port();
    let cookie = &c.cookie;

    // DNS rebinding: another name, even resolving here, is refused.
    for host in [
        "evil.example",
        "evil.example:PORT",
        "127.0.0.1:1",
        "[::1]:PORT",
    ] {
        let host = host.replace("PORT", &port.to_string());
        let r = raw(
            port,
            &format!("GET /api/backups HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
            b"",
        );
        assert_eq!(r.status, 421, "{host}");
    }
    let localhost = raw(
        port,
        &format!("GET /api/backups HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"),
        b"",
    );
    assert_eq!(localhost.status, 200);

    // State-changing requests: our Origin and a JSON body, nothing else.
    let post = |origin: Option<&str>, ct: &str| {
        let o = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        raw(
            port,
            &format!(
                "POST /api/quit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{o}Cookie: {cookie}\r\n\
                 Content-Type: {ct}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
            ),
            b"{}",
        )
    };
    assert_eq!(post(None, "application/json").status, 403);
    assert_eq!(
        post(Some("http://evil.example"), "application/json").status,
        403
    );
    assert_eq!(post(Some("null"), "application/json").status, 403);
    let own = format!("http://127.0.0.1:{port}");
    assert_eq!(post(Some(&own), "text/plain").status, 415);
    assert_eq!(
        post(Some(&own), "application/x-www-form-urlencoded").status,
        415
    );
    assert!(!server.quit_requested(), "no refused request may act");

    // No CORS, ever: a pre-flight is not answered and no response allows another origin.
    let pre = raw(
        port,
        &format!(
            "OPTIONS /api/quit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://evil.example\r\n\
             Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
        ),
        b"",
    );
    assert_eq!(pre.status, 405);
    for r in [
        &pre,
        &c.get("/"),
        &c.get("/api/backups"),
        &post(None, "application/json"),
    ] {
        assert!(
            r.headers
                .iter()
                .all(|(k, _)| !k.starts_with("access-control-")),
            "a CORS header"
        );
        let csp = r
            .header("content-security-policy")
            .expect("a CSP on every response");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "{csp}"
        );
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    // The page loads nothing from elsewhere.
    let page = String::from_utf8(c.get("/").body).unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "remote content in the page"
    );
    assert!(!page.contains("<script>"), "inline script");

    // A huge body is refused before it is parsed.
    let big = vec![b' '; 2 << 20];
    let r = raw(
        port,
        &format!(
            "POST /api/try HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {own}\r\nCookie: {cookie}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            big.len()
        ),
        &big,
    );
    assert_eq!(r.status, 413);

    // The right request does act.
    assert_eq!(post(Some(&own), "application/json").status, 200);
    assert!(server.quit_requested());
}

#[test]
fn the_way_through_check_search_find_decrypt_and_keychain() {
    let w = World::new();
    w.backup("00008110-000A1B2C3D4E5F60", PASSWORD, 10);
    let server = sesame_web::start(w.config()).unwrap();
    let c = Client::sign_in(&server);
    let list = c.backups();
    let b = &list["backups"][0];
    assert_eq!(b["device_name"], "Anna's iPhone");
    assert_eq!(b["encrypted"], true);
    assert_eq!(b["needs_password"], true);
    assert_eq!(b["password_known"], false);
    let id = b["id"].as_str().unwrap().to_string();

    // Unknown ids and backups the list never showed are not reachable.
    assert_eq!(c.post("/api/backup", &json!({"id": "nope"})).status, 404);
    // Nothing can be written before the password is known.
    assert_eq!(c.post("/api/decrypt", &json!({"id": id})).status, 409);

    let wrong = c.ok("/api/try", &json!({"id": id, "password": "Biscuit2015"}));
    assert_eq!(wrong["right"], false);

    // The plan: stages with sizes and times, and a date answer in the way people write it.
    let hints =
        json!({"names": ["Rex", "biscuit"], "dates": ["12/04/2016"], "passcodes": ["2580"]});
    let plan = c.ok("/api/plan", &json!({"id": id, "hints": hints}));
    let stages = plan["stages"].as_array().unwrap();
    assert!(stages.len() >= 2, "{plan}");
    assert!(stages.iter().all(|s| s["guesses"].as_u64().unwrap() > 0));
    assert!(plan["rate"].as_f64().unwrap() > 0.0);
    assert!(plan["seconds"].as_f64().unwrap() > 0.0);
    // The kernel calibration went into this server's data folder, not the user's.
    let cache = std::fs::read_to_string(w.path("data/kernels.json")).unwrap();
    assert!(cache.contains(plan["kernel"].as_str().unwrap()), "{cache}");
    let bad = c.post(
        "/api/plan",
        &json!({"id": id, "hints": {"dates": ["the summer"]}}),
    );
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("the summer"));

    let started = c.ok("/api/search/start", &json!({"id": id, "hints": hints}));
    assert_eq!(started["backup"], id.as_str());
    let saved = w.path("data/web-searches").join(format!("{id}.json"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).map(|m| m.permissions().mode() & 0o777);
        // Written at the start; it may already be gone if the search was that quick.
        if let Ok(mode) = mode {
            assert_eq!(mode, 0o600, "the saved hints are this user's only");
        }
    }
    let done = c.wait("/api/search", |s| {
        !["starting", "running"].contains(&s["state"].as_str().unwrap_or(""))
    });
    assert_eq!(done["state"], "found", "{done}");
    assert!(done["found_at"].as_u64().unwrap() >= 1);
    assert!(
        !saved.exists(),
        "the saved hints go once the password is found"
    );
    let text = serde_json::to_string(&done).unwrap();
    assert!(
        !text.contains(PASSWORD),
        "the status never carries the password"
    );

    // Remembered: the list says so, and the password comes only when asked.
    assert_eq!(c.backups()["backups"][0]["password_known"], true);
    let pw = c.ok("/api/password", &json!({"id": id}));
    assert_eq!(pw["password"], PASSWORD);
    let pot = std::fs::read_to_string(w.path("data/sesame.potfile")).unwrap();
    assert!(pot.contains("$itunes_backup$"), "{pot}");

    // The decrypted copy, through the output-folder rules.
    let job = c.ok("/api/decrypt", &json!({"id": id}));
    assert_eq!(job["kind"], "decrypt");
    let out = PathBuf::from(job["out"].as_str().unwrap());
    assert!(out.starts_with(w.path("out")), "{out:?}");
    let done = c.wait("/api/job", |j| j["state"] != "running");
    assert_eq!(done["state"], "done", "{done}");
    assert!(out.join("Manifest.db").is_file());
    assert!(!out.join(".sesame-unfinished").exists());
    let copy = sesame_backup::Backup::open(&out).unwrap();
    assert!(!copy.encrypted, "the copy reads as an unencrypted backup");

    // A second decrypt gets a new folder, never the first one again.
    let again = c.ok("/api/decrypt", &json!({"id": id}));
    assert_ne!(again["out"], job["out"]);
    c.wait("/api/job", |j| j["state"] != "running");
    // A folder that is not empty is refused, plainly, and left as it was.
    let full = w.path("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("mine.txt"), b"keep me").unwrap();
    c.ok("/api/decrypt", &json!({"id": id, "out": full}));
    let refused = c.wait("/api/job", |j| j["state"] != "running");
    assert_eq!(refused["state"], "failed", "{refused}");
    assert_eq!(std::fs::read(full.join("mine.txt")).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);

    // The export.
    c.ok("/api/export", &json!({"id": id}));
    let exp = c.wait("/api/job", |j| j["state"] != "running");
    assert_eq!(exp["state"], "done", "{exp}");
    let index = Path::new(exp["index"].as_str().unwrap()).to_path_buf();
    assert!(index.is_file());
    // Read in the browser through this server: its own files only, and no script runs there.
    let view = exp["view"].as_str().unwrap();
    let page = c.get(view);
    assert_eq!(page.status, 200);
    assert_eq!(page.body, std::fs::read(&index).unwrap());
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(
        page.headers
            .iter()
            .filter(|(k, _)| k == "content-security-policy")
            .count(),
        1
    );
    let export_dir = index.parent().unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(w.path("data/sesame.potfile"), export_dir.join("leak.txt")).unwrap();
    let base = view.trim_end_matches("index.html");
    for bad in [
        "../../data/sesame.potfile",
        "%2e%2e/%2e%2e/data/sesame.potfile",
        "leak.txt",
        "photos//x",
        "nope.html",
    ] {
        let r = c.get(&format!("{base}{bad}"));
        assert!(r.status == 400 || r.status == 404, "{bad}: {}", r.status);
        assert!(
            !String::from_utf8_lossy(&r.body).contains("itunes_backup"),
            "{bad}"
        );
    }
    assert_eq!(c.get("/export/99/index.html").status, 404);

    // A copy with a new password opens with it, and not with the old one.
    c.ok(
        "/api/change-password",
        &json!({"id": id, "new_password": "Luna-2024"}),
    );
    let rk = c.wait("/api/job", |j| j["state"] != "running");
    assert_eq!(rk["state"], "done", "{rk}");
    let rekeyed = sesame_backup::Backup::open(Path::new(rk["out"].as_str().unwrap())).unwrap();
    assert!(rekeyed.unlock(b"Luna-2024").is_ok());
    assert!(rekeyed.unlock(PASSWORD.as_bytes()).is_err());

    // The keychain's Wi-Fi password.
    let kc = c.ok("/api/keychain", &json!({"id": id}));
    let wifi = kc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["account"] == "Home-WiFi")
        .unwrap_or_else(|| panic!("{kc}"));
    assert_eq!(wifi["kind"], "Wi-Fi");
    assert_eq!(wifi["secret"], "CorgiCastle42");
}

#[test]
fn a_search_pauses_stops_and_resumes_after_a_restart() {
    let w = World::new();
    // A password no plan of these hints holds, and guesses slow enough to watch.
    w.backup("b1", "zq-not-in-any-plan-93", 3_000);
    let hints = json!({"names": ["Rex"]});
    let id;
    let done_before;
    {
        let server = sesame_web::start(w.config()).unwrap();
        let c = Client::sign_in(&server);
        id = c.first_id();
        c.ok("/api/search/start", &json!({"id": id, "hints": hints}));
        assert_eq!(
            c.post("/api/search/start", &json!({"id": id, "hints": hints}))
                .status,
            409
        );
        c.wait("/api/search", |s| {
            s["state"] == "running" && s["done"].as_u64().unwrap() > 0
        });
        let s = c.ok("/api/search/pause", &json!({}));
        assert_eq!(s["state"], "paused");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(c.get("/api/search").json()["state"], "paused");
        let s = c.ok("/api/search/resume", &json!({}));
        assert_eq!(s["state"], "running");
        // Time left, per stage and for all, while it runs.
        let s = c.wait("/api/search", |s| {
            s["rate"].as_f64().unwrap_or(0.0) > 0.0 && !s["devices"].as_array().unwrap().is_empty()
        });
        assert!(s["total"].as_u64().unwrap() > s["done"].as_u64().unwrap());
        assert!(s["seconds_left"].as_f64().is_some(), "{s}");
        assert!(s["stage_seconds_left"].as_f64().is_some(), "{s}");
        assert_eq!(s["devices"][0]["name"], "CPU");
        c.ok("/api/search/stop", &json!({}));
        let s = c.wait("/api/search", |s| {
            s["state"] != "running" && s["state"] != "paused"
        });
        assert_eq!(s["state"], "stopped", "{s}");
        done_before = s["done"].as_u64().unwrap();
        assert!(done_before > 0);
        // Quit (the server drops here): a restart of the computer, as far as the app knows.
    }
    let server = sesame_web::start(w.config()).unwrap();
    let c = Client::sign_in(&server);
    let b = &c.backups()["backups"][0];
    let saved = &b["saved_search"];
    assert!(saved["done"].as_u64().unwrap() > 0, "{b}");
    assert!(saved["done"].as_u64().unwrap() <= done_before);
    let plan = c.ok("/api/plan", &json!({"id": id, "resume": true}));
    assert!(plan["stages"].as_array().unwrap().len() >= 2);
    c.ok("/api/search/start", &json!({"id": id, "resume": true}));
    let s = c.wait("/api/search", |s| s["state"] == "running");
    assert_eq!(
        s["resumed_from"].as_u64().unwrap(),
        saved["done"].as_u64().unwrap(),
        "the search goes on where it stopped: {s}"
    );
    c.ok("/api/search/stop", &json!({}));
}

#[test]
fn the_wider_search_puts_four_digits_after_each_word() {
    let w = World::new();
    w.backup("b1", "Rex4455", 10);
    let server = sesame_web::start(w.config()).unwrap();
    let c = Client::sign_in(&server);
    let id = c.first_id();
    // Without words there is nothing to widen.
    let r = c.post(
        "/api/plan",
        &json!({"id": id, "hints": {"dates": ["1990"]}, "wider": true}),
    );
    assert_eq!(r.status, 400);
    let hints = json!({"names": ["rex"]});
    let plan = c.ok(
        "/api/plan",
        &json!({"id": id, "hints": hints, "wider": true}),
    );
    assert_eq!(plan["wider"], true);
    // "rex" and "Rex", each with the 4-digit block less the years the first plan had.
    assert_eq!(plan["total"], 2 * (10_000 - 87), "{plan}");
    c.ok(
        "/api/search/start",
        &json!({"id": id, "hints": hints, "wider": true}),
    );
    let s = c.wait("/api/search", |s| {
        !["starting", "running"].contains(&s["state"].as_str().unwrap_or(""))
    });
    assert_eq!(s["state"], "found", "{s}");
    assert_eq!(
        c.ok("/api/password", &json!({"id": id}))["password"],
        "Rex4455"
    );
    // A search that found its password is over: pausing it is refused and leaves "found", and
    // the next search starts at once (the potfile answers it), even while the first thread may
    // still be closing its session.
    assert_eq!(c.post("/api/search/pause", &json!({})).status, 409);
    assert_eq!(c.get("/api/search").json()["state"], "found");
    c.ok("/api/search/start", &json!({"id": id, "hints": hints}));
    let s = c.wait("/api/search", |s| {
        !["starting", "running"].contains(&s["state"].as_str().unwrap_or(""))
    });
    assert_eq!(s["state"], "found", "{s}");
}

#[test]
fn the_macs_keychain_item_is_asked_for_and_checked() {
    let w = World::new();
    let udid = "00008110-000A1B2C3D4E5F60";
    w.backup(udid, PASSWORD, 10);
    // A stand-in for macOS's `security`: answers as the real tool does (the password and exit
    // 0, or exit 44 when no item matches), and logs its arguments.
    let tool = w.path("security");
    let log = w.path("security.log");
    let script =
        |answer: &str| format!("#!/bin/sh\necho \"$@\" >> '{}'\n{answer}\n", log.display());
    let set = |answer: &str| {
        std::fs::write(&tool, script(answer)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    };
    let mut cfg = w.config();
    cfg.security_tool = Some(tool.clone());
    let server = sesame_web::start(cfg).unwrap();
    let c = Client::sign_in(&server);
    let id = c.first_id();

    set("exit 44");
    let r = c.ok("/api/keychain-lookup", &json!({"id": id}));
    assert_eq!(r["result"], "none", "{r}");
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(
        asked.contains(&format!("find-generic-password -l iOS Backup -a {udid} -w")),
        "{asked}"
    );
    assert!(asked.contains("iPhone Backup"), "{asked}");

    set("echo 'an-old-password'; exit 0");
    let r = c.ok("/api/keychain-lookup", &json!({"id": id}));
    assert_eq!(r["result"], "wrong", "{r}");
    assert_eq!(c.backups()["backups"][0]["password_known"], false);

    set("echo 'User interaction is not allowed.' >&2; exit 36");
    let r = c.ok("/api/keychain-lookup", &json!({"id": id}));
    assert_eq!(r["result"], "refused", "{r}");

    set(&format!("echo '{PASSWORD}'; exit 0"));
    let r = c.ok("/api/keychain-lookup", &json!({"id": id}));
    assert_eq!(r["result"], "opens", "{r}");
    assert_eq!(c.backups()["backups"][0]["password_known"], true);

    // Where there is no Keychain, it says so.
    let mut cfg = w.config();
    cfg.security_tool = None;
    let other = sesame_web::start(cfg).unwrap();
    let c2 = Client::sign_in(&other);
    let r = c2.ok("/api/keychain-lookup", &json!({"id": c2.first_id()}));
    assert_eq!(r["result"], "unavailable");
}

#[test]
fn another_folder_is_browsed_and_added() {
    let w = World::new();
    let elsewhere = w.path("elsewhere");
    BackupBuilder::new()
        .password(PASSWORD)
        .iterations(10, Some(10))
        .device("Ben's iPad", "iPad13,1", "16.0")
        .write(&elsewhere.join("ipad"))
        .unwrap();
    std::fs::create_dir_all(w.path("backups")).unwrap();
    let server = sesame_web::start(w.config()).unwrap();
    let c = Client::sign_in(&server);
    assert!(c.backups()["backups"].as_array().unwrap().is_empty());

    let f = c.ok("/api/folders", &json!({"path": elsewhere}));
    let folders = f["folders"].as_array().unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0]["name"], "ipad");
    assert_eq!(folders[0]["is_backup"], true);
    assert_eq!(f["parent"], w.dir.path().display().to_string());
    let home = c.ok("/api/folders", &json!({}));
    assert_eq!(home["path"], w.dir.path().display().to_string());
    assert_eq!(
        c.post("/api/folders", &json!({"path": w.path("missing")}))
            .status,
        400
    );
    assert_eq!(
        c.post("/api/roots", &json!({"path": w.path("missing")}))
            .status,
        400
    );

    let list = c.ok("/api/roots", &json!({"path": elsewhere}));
    let names: Vec<&str> = list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["device_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ben's iPad"]);
}

#[test]
fn the_real_keybags_answer_at_ten_million_iterations_and_cannot_tell_is_said() {
    let Some(fx) = fixtures() else { return };
    let w = World::new();
    // A real iOS 10.2+ Manifest.plist (password test123): two guesses at the real cost.
    let b = w.path("backups").join("real");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::copy(
        fx.join("keybags/manifest-ios10_2-test123.plist"),
        b.join("Manifest.plist"),
    )
    .unwrap();
    // The real iOS 14 backup without its Manifest.plist: whether it is encrypted cannot be told.
    let ios14 = w.path("backups").join("ios14");
    copy_tree(&fx.join("decrypted-backup-ios14"), &ios14);
    let _ = std::fs::remove_file(ios14.join("Manifest.plist"));

    let server = sesame_web::start(w.config()).unwrap();
    let c = Client::sign_in(&server);
    let list = c.backups();
    let by_path = |p: &Path| {
        list["backups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["path"] == p.display().to_string())
            .cloned()
            .unwrap_or_else(|| panic!("{p:?} not in {list}"))
    };
    let real = by_path(&b);
    assert_eq!(real["key_scheme"], "ios10.2");
    assert_eq!(real["sha256_iterations"], 10_000_000);
    let id = real["id"].as_str().unwrap();
    assert_eq!(
        c.ok("/api/try", &json!({"id": id, "password": "test12"}))["right"],
        false
    );
    assert_eq!(
        c.ok("/api/try", &json!({"id": id, "password": "test123"}))["right"],
        true
    );

    let unknown = by_path(&ios14);
    assert!(
        unknown["encrypted"].is_null(),
        "never 'not encrypted' when it cannot tell: {unknown}"
    );
    let uid = unknown["id"].as_str().unwrap();
    let r = c.post("/api/search/start", &json!({"id": uid, "hints": {}}));
    assert_eq!(
        r.status, 400,
        "no search on a backup whose encryption is unknown"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

#[test]
fn a_connected_phone_is_shown_and_its_encryption_turned_off_with_the_found_password() {
    let w = World::new();
    // The phone's old backup, encrypted with the password that was forgotten, on this computer.
    w.backup(sim::UDID, PASSWORD, 10);
    let phone = sim::Phone::paired();
    phone.set(|s| {
        s.will_encrypt = true;
        s.password = Some(PASSWORD.into());
    });
    let src = w.path("phone-files");
    BackupBuilder::new()
        .udid(sim::UDID)
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .file("HomeDomain", "Library/SMS/sms.db", b"messages".to_vec())
        .write(&src)
        .unwrap();
    let files = sim::files_of(&src);
    phone.set(|s| s.files = files);
    let mut cfg = w.config();
    cfg.usbmuxd = Some(phone.addr());
    let server = sesame_web::start(cfg).unwrap();
    let c = Client::sign_in(&server);
    let id = c.first_id();

    let p = c.get("/api/phones").json();
    let one = &p["phones"][0];
    assert_eq!(one["udid"], sim::UDID, "{p}");
    assert_eq!(one["name"], "Anna's iPhone");
    assert_eq!(one["paired"], true);
    assert_eq!(one["will_encrypt"], true);
    assert_eq!(one["password_known"], false);
    assert!(
        one["reset_text"]
            .as_str()
            .unwrap()
            .contains("Reset All Settings")
            || one["reset_text"].as_str().unwrap().contains("iOS 11")
    );
    // Without the password nothing is sent to the phone.
    assert_eq!(
        c.post("/api/phone/encryption-off", &json!({"udid": sim::UDID}))
            .status,
        409
    );
    assert!(phone.get(|s| s.will_encrypt));

    // Found (here: remembered at once), then encryption off with it.
    assert_eq!(
        c.ok("/api/try", &json!({"id": id, "password": PASSWORD}))["right"],
        true
    );
    assert_eq!(
        c.get("/api/phones").json()["phones"][0]["password_known"],
        true
    );
    let off = c.ok("/api/phone/encryption-off", &json!({"udid": sim::UDID}));
    assert_eq!(off["will_encrypt"], false, "{off}");
    assert!(
        !phone.get(|s| s.will_encrypt),
        "the phone's setting changed"
    );

    // A new backup of the phone, readable at once and in the list.
    let job = c.ok("/api/phone/backup", &json!({"udid": sim::UDID}));
    assert_eq!(job["kind"], "phone-backup");
    let done = c.wait("/api/job", |j| j["state"] != "running");
    assert_eq!(done["state"], "done", "{done}");
    let out = PathBuf::from(done["out"].as_str().unwrap());
    let b = sesame_backup::Backup::open(&out).unwrap();
    assert!(!b.encrypted, "made after encryption was turned off");
    assert!(!out.join(".sesame-unfinished").exists());
    let listed = c.backups();
    assert!(
        listed["backups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["path"] == out.display().to_string()),
        "{listed}"
    );
}

#[test]
fn no_phone_is_said_plainly() {
    let w = World::new();
    let mut cfg = w.config();
    cfg.usbmuxd = Some(sesame_device::MuxAddr::Unix(w.path("no-usbmuxd-here")));
    let server = sesame_web::start(cfg).unwrap();
    let c = Client::sign_in(&server);
    let p = c.get("/api/phones").json();
    assert!(p["phones"].as_array().unwrap().is_empty());
    assert!(p["message"].as_str().unwrap().contains("usbmuxd"), "{p}");
}
