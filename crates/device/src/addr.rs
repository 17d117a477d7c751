//! Where usbmuxd listens: USBMUXD_SOCKET_ADDRESS read as libusbmuxd reads it
//! (libusbmuxd src/libusbmuxd.c, `socket_connect_unix`/`socket_connect` after
//! `getenv("USBMUXD_SOCKET_ADDRESS")`): `UNIX:/path` for a local socket, otherwise
//! `host:port` (a name or an address, `[v6]:port` for IPv6). Unset: the platform's default,
//! /var/run/usbmuxd on Unix and 127.0.0.1:27015 on Windows.

use crate::error::{DeviceError, Result};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// The variable libimobiledevice and every usbmuxd client honour.
pub const ENV: &str = "USBMUXD_SOCKET_ADDRESS";

/// An address of usbmuxd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuxAddr {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP address: `host:port` as given (resolved when connecting).
    Tcp(String),
}

impl std::fmt::Display for MuxAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MuxAddr::Unix(p) => write!(f, "{}", p.display()),
            MuxAddr::Tcp(s) => write!(f, "{s}"),
        }
    }
}

impl Default for MuxAddr {
    fn default() -> Self {
        if cfg!(unix) {
            MuxAddr::Unix("/var/run/usbmuxd".into())
        } else {
            MuxAddr::Tcp("127.0.0.1:27015".into())
        }
    }
}

impl MuxAddr {
    /// The address in USBMUXD_SOCKET_ADDRESS, else the default.
    pub fn from_env() -> Result<MuxAddr> {
        match std::env::var(ENV) {
            Ok(v) if !v.trim().is_empty() => MuxAddr::parse(&v),
            _ => Ok(MuxAddr::default()),
        }
    }

    /// `UNIX:/path`, `host:port` or `[v6]:port`.
    pub fn parse(value: &str) -> Result<MuxAddr> {
        let v = value.trim();
        let bad = || DeviceError::BadAddress {
            value: value.to_string(),
        };
        if let Some(path) = v.strip_prefix("UNIX:") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(MuxAddr::Unix(path.into()));
        }
        // host:port, the port after the last colon; an IPv6 host is bracketed.
        let (host, port) = v.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad());
        }
        if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
            return Err(bad());
        }
        Ok(MuxAddr::Tcp(v.to_string()))
    }

    /// The address as idevice takes it (a TCP name resolved here: idevice only takes
    /// numeric addresses).
    pub(crate) fn to_idevice(&self) -> Result<idevice::usbmuxd::UsbmuxdAddr> {
        match self {
            #[cfg(unix)]
            MuxAddr::Unix(p) => Ok(idevice::usbmuxd::UsbmuxdAddr::UnixSocket(
                p.to_string_lossy().into_owned(),
            )),
            #[cfg(not(unix))]
            MuxAddr::Unix(p) => Err(DeviceError::BadAddress {
                value: format!("UNIX:{}", p.display()),
            }),
            MuxAddr::Tcp(s) => {
                let addr: Option<SocketAddr> = s
                    .to_socket_addrs()
                    .map_err(|e| DeviceError::NoUsbmuxd {
                        addr: s.clone(),
                        source: e,
                    })?
                    .next();
                match addr {
                    Some(a) => Ok(idevice::usbmuxd::UsbmuxdAddr::TcpSocket(a)),
                    None => Err(DeviceError::NoUsbmuxd {
                        addr: s.clone(),
                        source: std::io::ErrorKind::NotFound.into(),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_as_libusbmuxd_reads_it() {
        assert_eq!(
            MuxAddr::parse("UNIX:/tmp/mux").unwrap(),
            MuxAddr::Unix("/tmp/mux".into())
        );
        assert_eq!(
            MuxAddr::parse("localhost:27015").unwrap(),
            MuxAddr::Tcp("localhost:27015".into())
        );
        assert_eq!(
            MuxAddr::parse("[::1]:27015").unwrap(),
            MuxAddr::Tcp("[::1]:27015".into())
        );
        for bad in [
            "UNIX:",
            "/tmp/mux",
            "host:",
            "host:99999",
            "::1:27015",
            ":5",
        ] {
            assert!(
                matches!(MuxAddr::parse(bad), Err(DeviceError::BadAddress { .. })),
                "{bad}"
            );
        }
        // A numeric address becomes idevice's TCP address as it is.
        match MuxAddr::parse("127.0.0.1:27015")
            .unwrap()
            .to_idevice()
            .unwrap()
        {
            idevice::usbmuxd::UsbmuxdAddr::TcpSocket(a) => assert_eq!(a.port(), 27015),
            #[allow(unreachable_patterns)]
            other => panic!("{other:?}"),
        }
    }
}
