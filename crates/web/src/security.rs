//! The rules every request passes before it reaches the app.
//!
//! A password cracker listening on a port must not be usable by anything but the person at the
//! keyboard. What stands in the way of the others:
//! - other users and machines: the server listens on 127.0.0.1 only;
//! - other programs of this user that did not see the URL: a random 256-bit token, given once
//!   in the URL Sesame prints, exchanged for an HttpOnly, SameSite=Strict cookie (the address
//!   bar then loses it, so it is not left in the history or on screen);
//! - web pages open in the same browser (CSRF): SameSite=Strict keeps the cookie off their
//!   requests, every state-changing request must carry this server's own Origin, and the API
//!   takes only `application/json` bodies, which no plain HTML form can send;
//! - DNS rebinding (evil.example resolving to 127.0.0.1): the Host header must name the
//!   loopback address and this port;
//! - injected content: a strict Content-Security-Policy, no CORS headers, no remote content.

use rand::RngCore;

/// The cookie that carries the session once the token was exchanged.
pub const COOKIE: &str = "sesame_session";

/// Headers on every response.
pub const SECURITY_HEADERS: [(&str, &str); 8] = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    (
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// 32 random bytes as 64 hex digits.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Equal in time independent of where they differ (the token must not leak by timing).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the rules look at in a request.
#[derive(Clone, Debug, Default)]
pub struct RequestView<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

/// Why a request was turned away (HTTP status and a line for the person or the test).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 421: the Host header is not this server's loopback address.
    WrongHost,
    /// 401: no valid session cookie (and no valid token).
    NoSession,
    /// 403: a wrong token in the URL.
    WrongToken,
    /// 403: a state-changing request from another origin, or without an Origin.
    WrongOrigin,
    /// 415: a request body that is not JSON.
    NotJson,
    /// 405: a method the app does not use (OPTIONS: no CORS pre-flight is ever answered).
    Method,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::WrongHost => 421,
            Refusal::NoSession => 401,
            Refusal::WrongToken | Refusal::WrongOrigin => 403,
            Refusal::NotJson => 415,
            Refusal::Method => 405,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            Refusal::WrongHost => "this server answers only at its own loopback address",
            Refusal::NoSession => {
                "not signed in: open the address that `sesame web` printed (it ends with ?token=...)"
            }
            Refusal::WrongToken => {
                "that token is not this server's: open the address that `sesame web` printed"
            }
            Refusal::WrongOrigin => "refused: the request did not come from Sesame's own page",
            Refusal::NotJson => "the body must be JSON (Content-Type: application/json)",
            Refusal::Method => "method not allowed",
        }
    }
}

/// What to do with a request that passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admit {
    /// The right token in the URL of a page load: set the cookie, redirect to the same path
    /// without the token.
    Exchange,
    /// A signed-in request: serve it.
    Serve,
}

/// The server's secrets and address.
#[derive(Clone)]
pub struct Guard {
    /// Given once in the printed URL.
    pub token: String,
    /// The cookie's value (another secret: the token itself never travels in a cookie).
    pub session: String,
    pub port: u16,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Guard {
    pub fn new(port: u16) -> Guard {
        Guard {
            token: random_secret(),
            session: random_secret(),
            port,
        }
    }

    /// The origins of this server (what a browser sends as Origin from its own pages).
    fn own_origin(&self, origin: &str) -> bool {
        origin == format!("http://127.0.0.1:{}", self.port)
            || origin == format!("http://localhost:{}", self.port)
    }

    fn own_host(&self, host: &str) -> bool {
        host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
    }

    /// The `Set-Cookie` value for a successful exchange.
    pub fn set_cookie(&self) -> String {
        format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
            self.session
        )
    }

    /// Applies every rule, in order: Host, method, token or cookie, Origin, body type.
    pub fn check(&self, r: &RequestView<'_>) -> Result<Admit, Refusal> {
        match r.host {
            Some(h) if self.own_host(h) => {}
            _ => return Err(Refusal::WrongHost),
        }
        let changes_state = match r.method {
            "GET" | "HEAD" => false,
            "POST" => true,
            _ => return Err(Refusal::Method),
        };
        if !changes_state {
            if let Some(t) = r.query.and_then(token_of) {
                return if same_secret(t, &self.token) {
                    Ok(Admit::Exchange)
                } else {
                    Err(Refusal::WrongToken)
                };
            }
        }
        let signed_in = r
            .cookie
            .and_then(session_of)
            .is_some_and(|s| same_secret(s, &self.session));
        if !signed_in {
            return Err(Refusal::NoSession);
        }
        if changes_state {
            match r.origin {
                Some(o) if self.own_origin(o) => {}
                _ => return Err(Refusal::WrongOrigin),
            }
            let json = r
                .content_type
                .map(|c| c.split(';').next().unwrap_or("").trim())
                .is_some_and(|c| c.eq_ignore_ascii_case("application/json"));
            if !json {
                return Err(Refusal::NotJson);
            }
        }
        Ok(Admit::Serve)
    }
}

/// The value of `token=` in a query string.
fn token_of(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .filter(|t| !t.is_empty())
}

/// The value of our cookie in a Cookie header.
fn session_of(cookie: &str) -> Option<&str> {
    cookie
        .split(';')
        .find_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard {
            token: "t0k".into(),
            session: "s3ss".into(),
            port: 4242,
        }
    }

    fn get<'a>(path: &'a str, cookie: Option<&'a str>) -> RequestView<'a> {
        RequestView {
            method: "GET",
            path,
            host: Some("127.0.0.1:4242"),
            cookie,
            ..Default::default()
        }
    }

    #[test]
    fn the_token_is_exchanged_only_when_right() {
        let g = guard();
        let mut r = get("/", None);
        r.query = Some("token=t0k");
        assert_eq!(g.check(&r), Ok(Admit::Exchange));
        r.query = Some("token=t0x");
        assert_eq!(g.check(&r), Err(Refusal::WrongToken));
        r.query = Some("token=");
        assert_eq!(g.check(&r), Err(Refusal::NoSession));
    }

    #[test]
    fn a_page_needs_the_cookie() {
        let g = guard();
        assert_eq!(g.check(&get("/", None)), Err(Refusal::NoSession));
        assert_eq!(
            g.check(&get("/", Some("other=1; sesame_session=wrong"))),
            Err(Refusal::NoSession)
        );
        assert_eq!(
            g.check(&get("/", Some("other=1; sesame_session=s3ss"))),
            Ok(Admit::Serve)
        );
        // The token is not a cookie value.
        assert_eq!(
            g.check(&get("/", Some("sesame_session=t0k"))),
            Err(Refusal::NoSession)
        );
    }

    #[test]
    fn the_host_must_be_loopback_and_this_port() {
        let g = guard();
        for host in [
            None,
            Some("evil.example:4242"),
            Some("127.0.0.1:4243"),
            Some("127.0.0.1"),
        ] {
            let mut r = get("/", Some("sesame_session=s3ss"));
            r.host = host;
            assert_eq!(g.check(&r), Err(Refusal::WrongHost), "{host:?}");
        }
        let mut r = get("/", Some("sesame_session=s3ss"));
        r.host = Some("localhost:4242");
        assert_eq!(g.check(&r), Ok(Admit::Serve));
    }

    #[test]
    fn a_post_needs_our_origin_and_json() {
        let g = guard();
        let post = |origin, ct| RequestView {
            method: "POST",
            path: "/api/try",
            host: Some("127.0.0.1:4242"),
            cookie: Some("sesame_session=s3ss"),
            origin,
            content_type: ct,
            ..Default::default()
        };
        let json = Some("application/json");
        assert_eq!(g.check(&post(None, json)), Err(Refusal::WrongOrigin));
        assert_eq!(
            g.check(&post(Some("http://evil.example"), json)),
            Err(Refusal::WrongOrigin)
        );
        assert_eq!(
            g.check(&post(Some("http://127.0.0.1:9999"), json)),
            Err(Refusal::WrongOrigin)
        );
        assert_eq!(
            g.check(&post(Some("http://127.0.0.1:4242"), Some("text/plain"))),
            Err(Refusal::NotJson)
        );
        assert_eq!(
            g.check(&post(
                Some("http://127.0.0.1:4242"),
                Some("application/json; charset=utf-8")
            )),
            Ok(Admit::Serve)
        );
        // A token in the query does not stand in for the cookie on a POST.
        let mut p = post(Some("http://127.0.0.1:4242"), json);
        p.cookie = None;
        p.query = Some("token=t0k");
        assert_eq!(g.check(&p), Err(Refusal::NoSession));
    }

    #[test]
    fn other_methods_are_refused() {
        let g = guard();
        for m in ["OPTIONS", "PUT", "DELETE", "PATCH"] {
            let mut r = get("/api/backups", Some("sesame_session=s3ss"));
            r.method = m;
            assert_eq!(g.check(&r), Err(Refusal::Method), "{m}");
        }
    }

    #[test]
    fn secrets_are_long_and_fresh() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret("abc", "abcd"));
    }
}
