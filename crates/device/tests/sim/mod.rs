//! A simulated phone behind a simulated usbmuxd, for the tests: idevice's real client code
//! talks to it unchanged over a Unix socket.
//!
//! Written from the protocols as libimobiledevice (libusbmuxd's usbmuxd protocol,
//! src/lockdown.c, src/device_link_service.c, src/mobilebackup2.c, tools/idevicebackup2.c)
//! and pymobiledevice3 (usbmux.py, lockdown.py, services/device_link.py,
//! services/mobilebackup2.py) document them:
//! - usbmuxd: a 16-byte little-endian header (length, version 1, type 8 = plist, tag) and
//!   an XML plist; ListDevices, ReadBUID, ReadPairRecord, SavePairRecord, Connect (the port
//!   in network byte order; after "Result 0" the socket is the device's port).
//! - lockdownd (port 62078): a big-endian 32-bit length and an XML plist; GetValue,
//!   StartSession (then a TLS handshake on the same socket, the phone as TLS server),
//!   StartService, Pair (the trust dialog: PairingDialogResponsePending until answered).
//! - mobilebackup2: DeviceLink messages (big-endian length + binary plist array): the
//!   version exchange, Hello, then Backup (GetFreeDiskSpace, DownloadFiles,
//!   CreateDirectory, UploadFiles with its raw file stream), ChangePassword and Restore
//!   (ContentsOfDirectory, DownloadFiles), each ended by a DLMessageProcessMessage with
//!   ErrorCode.
//!
//! The certificates in keys/ were made once with openssl for these tests only.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::rustls;

pub const UDID: &str = "00008110-000A1B2C3D4E5F60";
pub const HOST_ID: &str = "5E5A3E00-0000-4000-8000-000000000001";
const LOCKDOWN_PORT: u16 = 62078;
const MB2_PORT: u16 = 49152;

const ROOT_PEM: &[u8] = include_bytes!("keys/root.pem");
const ROOT_KEY: &[u8] = include_bytes!("keys/root.key");
const HOST_PEM: &[u8] = include_bytes!("keys/host.pem");
const HOST_KEY: &[u8] = include_bytes!("keys/host.key");
const DEVICE_PEM: &[u8] = include_bytes!("keys/device.pem");
const DEVICE_KEY: &[u8] = include_bytes!("keys/device.key");
const DEVICE_PUB: &[u8] = include_bytes!("keys/device_pub.pem");

/// How the phone answers "Trust This Computer?".
#[derive(Clone, Debug, PartialEq)]
pub enum Trust {
    /// Trust after this many "still waiting" answers.
    After(u32),
    Deny,
    /// Locked: it cannot show the question.
    Locked,
    /// Nobody ever answers.
    Never,
}

#[derive(Debug)]
pub struct State {
    pub udid: String,
    pub name: String,
    pub product_type: String,
    pub ios: String,
    pub will_encrypt: bool,
    pub password: Option<String>,
    /// HostIDs the phone trusts.
    pub trusted: Vec<String>,
    /// usbmuxd's pair records, by UDID.
    pub records: BTreeMap<String, Vec<u8>>,
    pub trust: Trust,
    /// Answer ChangePassword (false: the passcode is never entered).
    pub passcode_entered: bool,
    /// Files the phone sends in a backup: (path below the backup folder, contents).
    pub files: Vec<(String, Vec<u8>)>,
    /// Files sent first in a backup under exactly these names (a misbehaving phone).
    pub raw_files: Vec<(String, Vec<u8>)>,
    /// Files the host sent in a restore, by the path the phone asked for.
    pub restored: BTreeMap<String, Vec<u8>>,
    pub restore_options: Option<plist::Dictionary>,
    /// The phone's own password for the backup being restored, when encrypted.
    pub restore_needs: Option<String>,
    pub wifi_too: bool,
    /// Refuse a backup when the host reports too little free space (as a phone does).
    pub check_free_space: bool,
    /// Not listed by usbmuxd for this many more ListDevices (restarting).
    pub away_for: u32,
    /// Every lockdown and mobilebackup2 request, by name.
    pub log: Vec<String>,
}

pub struct Phone {
    pub state: Arc<Mutex<State>>,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

/// The pair record of an already trusted computer (as usbmuxd stores it).
pub fn pair_record() -> Vec<u8> {
    let mut d = plist::Dictionary::new();
    d.insert(
        "DeviceCertificate".into(),
        plist::Value::Data(DEVICE_PEM.to_vec()),
    );
    d.insert(
        "HostCertificate".into(),
        plist::Value::Data(HOST_PEM.to_vec()),
    );
    d.insert(
        "HostPrivateKey".into(),
        plist::Value::Data(HOST_KEY.to_vec()),
    );
    d.insert(
        "RootCertificate".into(),
        plist::Value::Data(ROOT_PEM.to_vec()),
    );
    d.insert(
        "RootPrivateKey".into(),
        plist::Value::Data(ROOT_KEY.to_vec()),
    );
    d.insert("SystemBUID".into(), "SIMULATED-BUID".into());
    d.insert("HostID".into(), HOST_ID.into());
    d.insert("WiFiMACAddress".into(), "aa:bb:cc:dd:ee:ff".into());
    d.insert("EscrowBag".into(), plist::Value::Data(vec![1, 2, 3]));
    d.insert("UDID".into(), UDID.into());
    let mut buf = Vec::new();
    plist::Value::Dictionary(d).to_writer_xml(&mut buf).unwrap();
    buf
}

/// Every file of a backup folder made by BackupBuilder, but Info.plist (the computer
/// writes that one), Status.plist last (a phone ends with it).
pub fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, at: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.retain(|(n, _)| n != "Info.plist");
    v.sort_by_key(|(n, _)| (n == "Status.plist", n.clone()));
    v
}

impl Phone {
    /// A phone that trusts this computer already (usbmuxd holds the record).
    pub fn paired() -> Phone {
        let p = Phone::unpaired(Trust::After(0));
        {
            let mut s = p.state.lock().unwrap();
            s.trusted.push(HOST_ID.into());
            s.records.insert(UDID.into(), pair_record());
        }
        p
    }

    /// A phone that has never seen this computer.
    pub fn unpaired(trust: Trust) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("usbmuxd");
        let state = Arc::new(Mutex::new(State {
            udid: UDID.into(),
            name: "Anna's iPhone".into(),
            product_type: "iPhone14,2".into(),
            ios: "17.1".into(),
            will_encrypt: false,
            password: None,
            trusted: Vec::new(),
            records: BTreeMap::new(),
            trust,
            passcode_entered: true,
            files: Vec::new(),
            raw_files: Vec::new(),
            restored: BTreeMap::new(),
            restore_options: None,
            restore_needs: None,
            wifi_too: false,
            check_free_space: true,
            away_for: 0,
            log: Vec::new(),
        }));
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        listener.set_nonblocking(true).unwrap();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::UnixListener::from_std(listener).unwrap();
                while let Ok((s, _)) = listener.accept().await {
                    let st = st.clone();
                    tokio::spawn(async move {
                        let _ = muxd(s, st).await;
                    });
                }
            });
        });
        Phone {
            state,
            socket,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> sesame_device::MuxAddr {
        sesame_device::MuxAddr::Unix(self.socket.clone())
    }

    pub fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap())
    }

    pub fn get<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.state.lock().unwrap())
    }

    /// What Reset All Settings does here: the backup password and every trusted computer
    /// are forgotten, and the phone restarts (gone for a few looks).
    pub fn reset_all_settings(&self) {
        self.set(|s| {
            s.will_encrypt = false;
            s.password = None;
            s.trusted.clear();
            s.away_for = 3;
        });
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn err(s: &str) -> Box<dyn std::error::Error + Send + Sync> {
    s.to_string().into()
}

// ---------- usbmuxd ----------

async fn mux_read<S: AsyncRead + Unpin>(s: &mut S) -> Res<(u32, plist::Dictionary)> {
    let mut h = [0u8; 16];
    s.read_exact(&mut h).await?;
    let len = u32::from_le_bytes(h[0..4].try_into()?) as usize;
    let tag = u32::from_le_bytes(h[12..16].try_into()?);
    if len < 16 {
        return Err(err("short usbmuxd packet"));
    }
    let mut body = vec![0u8; len - 16];
    s.read_exact(&mut body).await?;
    Ok((tag, plist::from_bytes(&body)?))
}

async fn mux_write<S: AsyncWrite + Unpin>(s: &mut S, tag: u32, d: plist::Dictionary) -> Res<()> {
    let mut body = Vec::new();
    plist::Value::Dictionary(d).to_writer_xml(&mut body)?;
    let mut p = Vec::with_capacity(16 + body.len());
    p.extend_from_slice(&((16 + body.len()) as u32).to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    p.extend_from_slice(&8u32.to_le_bytes());
    p.extend_from_slice(&tag.to_le_bytes());
    p.extend_from_slice(&body);
    s.write_all(&p).await?;
    Ok(())
}

fn result(n: u64) -> plist::Dictionary {
    let mut d = plist::Dictionary::new();
    d.insert("MessageType".into(), "Result".into());
    d.insert("Number".into(), n.into());
    d
}

fn device_entry(id: u64, udid: &str, network: bool) -> plist::Value {
    let mut props = plist::Dictionary::new();
    props.insert("DeviceID".into(), id.into());
    props.insert("SerialNumber".into(), udid.into());
    if network {
        props.insert("ConnectionType".into(), "Network".into());
        // A sockaddr_in as macOS's usbmuxd gives it: length, AF_INET, port, 192.168.1.23.
        let mut sa = vec![0x10u8, 2, 0, 0, 192, 168, 1, 23];
        sa.extend_from_slice(&[0; 8]);
        props.insert("NetworkAddress".into(), plist::Value::Data(sa));
    } else {
        props.insert("ConnectionType".into(), "USB".into());
    }
    let mut d = plist::Dictionary::new();
    d.insert("DeviceID".into(), id.into());
    d.insert("MessageType".into(), "Attached".into());
    d.insert("Properties".into(), props.into());
    d.into()
}

async fn muxd(mut s: tokio::net::UnixStream, st: Arc<Mutex<State>>) -> Res<()> {
    loop {
        let (tag, req) = mux_read(&mut s).await?;
        let kind = req
            .get("MessageType")
            .and_then(|v| v.as_string())
            .unwrap_or("")
            .to_string();
        let reply = {
            let mut g = st.lock().unwrap();
            match kind.as_str() {
                "ListDevices" => {
                    let mut list = Vec::new();
                    if g.away_for > 0 {
                        g.away_for -= 1;
                    } else {
                        list.push(device_entry(1, &g.udid, false));
                        if g.wifi_too {
                            list.push(device_entry(2, &g.udid, true));
                        }
                    }
                    let mut d = plist::Dictionary::new();
                    d.insert("DeviceList".into(), list.into());
                    d
                }
                "ReadBUID" => {
                    let mut d = plist::Dictionary::new();
                    d.insert("BUID".into(), "SIMULATED-BUID".into());
                    d
                }
                "ReadPairRecord" => {
                    let id = req
                        .get("PairRecordID")
                        .and_then(|v| v.as_string())
                        .unwrap_or("");
                    match g.records.get(id) {
                        Some(r) => {
                            let mut d = plist::Dictionary::new();
                            d.insert("PairRecordData".into(), plist::Value::Data(r.clone()));
                            d
                        }
                        None => result(2),
                    }
                }
                "SavePairRecord" => {
                    let id = req
                        .get("PairRecordID")
                        .and_then(|v| v.as_string())
                        .unwrap_or("")
                        .to_string();
                    let data = req
                        .get("PairRecordData")
                        .and_then(|v| v.as_data())
                        .map(|d| d.to_vec())
                        .unwrap_or_default();
                    g.records.insert(id, data);
                    result(0)
                }
                "Connect" => {
                    let wire = req
                        .get("PortNumber")
                        .and_then(|v| v.as_unsigned_integer())
                        .unwrap_or(0) as u16;
                    let port = u16::from_be(wire);
                    drop(g);
                    mux_write(&mut s, tag, result(0)).await?;
                    return match port {
                        LOCKDOWN_PORT => lockdownd(s, st).await,
                        MB2_PORT => mobilebackup2(s, st).await,
                        _ => Ok(()),
                    };
                }
                _ => result(1),
            }
        };
        mux_write(&mut s, tag, reply).await?;
    }
}

// ---------- lockdownd ----------

async fn ld_read<S: AsyncRead + Unpin>(s: &mut S) -> Res<Option<plist::Dictionary>> {
    let mut n = [0u8; 4];
    match s.read_exact(&mut n).await {
        Ok(_) => {}
        // The host may just hang up (no StopSession), with or without TLS close_notify.
        Err(_) => return Ok(None),
    }
    let mut body = vec![0u8; u32::from_be_bytes(n) as usize];
    s.read_exact(&mut body).await?;
    Ok(Some(plist::from_bytes(&body)?))
}

async fn ld_write<S: AsyncWrite + Unpin>(s: &mut S, d: plist::Dictionary) -> Res<()> {
    let mut body = Vec::new();
    plist::Value::Dictionary(d).to_writer_xml(&mut body)?;
    s.write_all(&(body.len() as u32).to_be_bytes()).await?;
    s.write_all(&body).await?;
    s.flush().await?;
    Ok(())
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    let certs = vec![rustls::pki_types::CertificateDer::from_pem_slice(DEVICE_PEM).unwrap()];
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(DEVICE_KEY).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

async fn lockdownd(mut s: tokio::net::UnixStream, st: Arc<Mutex<State>>) -> Res<()> {
    if ld_loop(&mut s, &st, false).await? {
        let mut tls = tls_acceptor().accept(s).await?;
        ld_loop(&mut tls, &st, true).await?;
    }
    Ok(())
}

/// Answers lockdown requests; returns true when a session was started (TLS follows).
async fn ld_loop<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    st: &Arc<Mutex<State>>,
    session: bool,
) -> Res<bool> {
    while let Some(req) = ld_read(s).await? {
        let r = req
            .get("Request")
            .and_then(|v| v.as_string())
            .unwrap_or("")
            .to_string();
        let mut reply = plist::Dictionary::new();
        reply.insert("Request".into(), r.clone().into());
        let mut started = false;
        {
            let mut g = st.lock().unwrap();
            g.log.push(format!("lockdown {r}"));
            match r.as_str() {
                "QueryType" => {
                    reply.insert("Type".into(), "com.apple.mobile.lockdown".into());
                }
                "GetValue" => {
                    let key = req.get("Key").and_then(|v| v.as_string()).unwrap_or("");
                    let domain = req.get("Domain").and_then(|v| v.as_string());
                    let value: Option<plist::Value> = match (domain, key) {
                        (None, "ProductVersion") => Some(g.ios.clone().into()),
                        (None, "ProductType") => Some(g.product_type.clone().into()),
                        (None, "DeviceName") => Some(g.name.clone().into()),
                        (None, "BuildVersion") => Some("21B80".into()),
                        (None, "SerialNumber") => Some("F2LXK0ABCDEF".into()),
                        (None, "UniqueDeviceID") => Some(g.udid.clone().into()),
                        (None, "DevicePublicKey") => Some(plist::Value::Data(DEVICE_PUB.to_vec())),
                        (None, "WiFiAddress") => Some("aa:bb:cc:dd:ee:ff".into()),
                        (Some("com.apple.mobile.backup"), "WillEncrypt") if session => {
                            Some(g.will_encrypt.into())
                        }
                        (Some(_), _) if !session => {
                            reply.insert("Error".into(), "SessionInactive".into());
                            None
                        }
                        _ => {
                            reply.insert("Error".into(), "MissingValue".into());
                            None
                        }
                    };
                    if let Some(v) = value {
                        reply.insert("Key".into(), key.into());
                        reply.insert("Value".into(), v);
                    }
                }
                "StartSession" => {
                    let host = req.get("HostID").and_then(|v| v.as_string()).unwrap_or("");
                    if g.trusted.iter().any(|h| h == host) {
                        reply.insert("EnableSessionSSL".into(), true.into());
                        reply.insert("SessionID".into(), "SIM-SESSION".into());
                        started = true;
                    } else {
                        reply.insert("Error".into(), "InvalidHostID".into());
                    }
                }
                "Pair" => match g.trust.clone() {
                    Trust::After(0) => {
                        let host = req
                            .get("PairRecord")
                            .and_then(|v| v.as_dictionary())
                            .and_then(|d| d.get("HostID"))
                            .and_then(|v| v.as_string())
                            .unwrap_or("")
                            .to_string();
                        g.trusted.push(host);
                        reply.insert("EscrowBag".into(), plist::Value::Data(vec![9, 9, 9]));
                    }
                    Trust::After(n) => {
                        g.trust = Trust::After(n - 1);
                        reply.insert("Error".into(), "PairingDialogResponsePending".into());
                    }
                    Trust::Never => {
                        reply.insert("Error".into(), "PairingDialogResponsePending".into());
                    }
                    Trust::Deny => {
                        reply.insert("Error".into(), "UserDeniedPairing".into());
                    }
                    Trust::Locked => {
                        reply.insert("Error".into(), "PasswordProtected".into());
                    }
                },
                "StartService" if session => {
                    let svc = req.get("Service").and_then(|v| v.as_string()).unwrap_or("");
                    if req.get("EscrowBag").is_some() {
                        g.log.push("lockdown StartService with EscrowBag".into());
                    }
                    if svc == "com.apple.mobilebackup2" {
                        reply.insert("Service".into(), svc.into());
                        reply.insert("Port".into(), (MB2_PORT as u64).into());
                        reply.insert("EnableServiceSSL".into(), false.into());
                    } else {
                        reply.insert("Error".into(), "InvalidService".into());
                    }
                }
                "StartService" => {
                    reply.insert("Error".into(), "SessionInactive".into());
                }
                "StopSession" => {}
                _ => {
                    reply.insert("Error".into(), "InvalidRequest".into());
                }
            }
        }
        ld_write(s, reply).await?;
        if started {
            return Ok(true);
        }
    }
    Ok(false)
}

// ---------- mobilebackup2 (DeviceLink) ----------

async fn dl_read<S: AsyncRead + Unpin>(s: &mut S) -> Res<Option<Vec<plist::Value>>> {
    let mut n = [0u8; 4];
    if s.read_exact(&mut n).await.is_err() {
        return Ok(None);
    }
    let mut body = vec![0u8; u32::from_be_bytes(n) as usize];
    s.read_exact(&mut body).await?;
    match plist::from_bytes::<plist::Value>(&body)? {
        plist::Value::Array(a) => Ok(Some(a)),
        _ => Err(err("a DeviceLink message that is not an array")),
    }
}

async fn dl_write<S: AsyncWrite + Unpin>(s: &mut S, a: Vec<plist::Value>) -> Res<()> {
    let mut body = Vec::new();
    plist::Value::Array(a).to_writer_binary(&mut body)?;
    s.write_all(&(body.len() as u32).to_be_bytes()).await?;
    s.write_all(&body).await?;
    s.flush().await?;
    Ok(())
}

async fn process_message<S: AsyncWrite + Unpin>(s: &mut S, d: plist::Dictionary) -> Res<()> {
    dl_write(s, vec!["DLMessageProcessMessage".into(), d.into()]).await
}

fn answer(code: i64, description: Option<&str>) -> plist::Dictionary {
    let mut d = plist::Dictionary::new();
    d.insert("MessageName".into(), "Response".into());
    d.insert("ErrorCode".into(), code.into());
    if let Some(t) = description {
        d.insert("ErrorDescription".into(), t.into());
    }
    d
}

/// Waits for the host's DLMessageStatusResponse.
async fn status<S: AsyncRead + Unpin>(s: &mut S) -> Res<Vec<plist::Value>> {
    let m = dl_read(s).await?.ok_or_else(|| err("host gone"))?;
    if m.first().and_then(|v| v.as_string()) != Some("DLMessageStatusResponse") {
        return Err(err("expected DLMessageStatusResponse"));
    }
    Ok(m)
}

async fn be32<S: AsyncRead + Unpin>(s: &mut S) -> Res<u32> {
    let mut n = [0u8; 4];
    s.read_exact(&mut n).await?;
    Ok(u32::from_be_bytes(n))
}

/// Asks the host for files (DLMessageDownloadFiles) and reads what it sends: the files it
/// has, by path.
async fn download<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    paths: Vec<String>,
    progress: f64,
) -> Res<BTreeMap<String, Vec<u8>>> {
    let list: Vec<plist::Value> = paths.iter().map(|p| p.clone().into()).collect();
    dl_write(
        s,
        vec![
            "DLMessageDownloadFiles".into(),
            list.into(),
            plist::Dictionary::new().into(),
            progress.into(),
        ],
    )
    .await?;
    let mut got = BTreeMap::new();
    loop {
        let n = be32(s).await?;
        if n == 0 {
            break;
        }
        let mut name = vec![0u8; n as usize];
        s.read_exact(&mut name).await?;
        let name = String::from_utf8(name)?;
        let mut data = Vec::new();
        let mut ok = false;
        loop {
            let len = be32(s).await?;
            let mut code = [0u8; 1];
            s.read_exact(&mut code).await?;
            let mut block = vec![0u8; len as usize - 1];
            s.read_exact(&mut block).await?;
            match code[0] {
                0x0c => data.extend_from_slice(&block),
                0x00 => {
                    ok = true;
                    break;
                }
                _ => break, // 0x06: the host does not have it
            }
        }
        if ok {
            got.insert(name, data);
        }
    }
    status(s).await?;
    Ok(got)
}

/// Sends files to the host (DLMessageUploadFiles and the raw stream after it).
async fn upload<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    files: &[(String, Vec<u8>)],
    progress: f64,
) -> Res<()> {
    let total: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    dl_write(
        s,
        vec![
            "DLMessageUploadFiles".into(),
            plist::Dictionary::new().into(),
            progress.into(),
            total.into(),
        ],
    )
    .await?;
    for (name, data) in files {
        let device_name = format!("/private/var/mobile/{name}");
        s.write_all(&(device_name.len() as u32).to_be_bytes())
            .await?;
        s.write_all(device_name.as_bytes()).await?;
        s.write_all(&(name.len() as u32).to_be_bytes()).await?;
        s.write_all(name.as_bytes()).await?;
        for chunk in data.chunks(64 * 1024) {
            s.write_all(&(chunk.len() as u32 + 1).to_be_bytes()).await?;
            s.write_all(&[0x0c]).await?;
            s.write_all(chunk).await?;
        }
        s.write_all(&1u32.to_be_bytes()).await?;
        s.write_all(&[0x00]).await?;
    }
    s.write_all(&0u32.to_be_bytes()).await?;
    s.flush().await?;
    status(s).await?;
    Ok(())
}

async fn mobilebackup2(mut s: tokio::net::UnixStream, st: Arc<Mutex<State>>) -> Res<()> {
    let s = &mut s;
    dl_write(
        s,
        vec![
            "DLMessageVersionExchange".into(),
            300u64.into(),
            0u64.into(),
        ],
    )
    .await?;
    let m = dl_read(s).await?.ok_or_else(|| err("host gone"))?;
    if m.get(1).and_then(|v| v.as_string()) != Some("DLVersionsOk") {
        return Err(err("versions not accepted"));
    }
    dl_write(s, vec!["DLMessageDeviceReady".into()]).await?;
    let hello = dl_read(s).await?.ok_or_else(|| err("host gone"))?;
    let name = hello
        .get(1)
        .and_then(|v| v.as_dictionary())
        .and_then(|d| d.get("MessageName"))
        .and_then(|v| v.as_string());
    if name != Some("Hello") {
        return Err(err("expected Hello"));
    }
    let mut r = answer(0, None);
    r.insert("ProtocolVersion".into(), 2.1f64.into());
    process_message(s, r).await?;

    while let Some(m) = dl_read(s).await? {
        if m.first().and_then(|v| v.as_string()) == Some("DLMessageDisconnect") {
            return Ok(());
        }
        let Some(req) = m.get(1).and_then(|v| v.as_dictionary()).cloned() else {
            return Err(err("a request without a dictionary"));
        };
        let name = req
            .get("MessageName")
            .and_then(|v| v.as_string())
            .unwrap_or("")
            .to_string();
        st.lock().unwrap().log.push(format!("mobilebackup2 {name}"));
        match name.as_str() {
            "ChangePassword" => change_password(s, &st, &req).await?,
            "Backup" => backup(s, &st).await?,
            "Restore" => restore(s, &st, &req).await?,
            _ => process_message(s, answer(1, Some("Unsupported request"))).await?,
        }
    }
    Ok(())
}

async fn change_password<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    st: &Arc<Mutex<State>>,
    req: &plist::Dictionary,
) -> Res<()> {
    let old = req
        .get("OldPassword")
        .and_then(|v| v.as_string())
        .map(str::to_string);
    let new = req
        .get("NewPassword")
        .and_then(|v| v.as_string())
        .map(str::to_string);
    if !st.lock().unwrap().passcode_entered {
        // The passcode prompt stays on screen: nothing is answered until the host gives up.
        while dl_read(s).await?.is_some() {}
        return Ok(());
    }
    let reply = {
        let mut g = st.lock().unwrap();
        // The code and wording are this simulator's: neither libimobiledevice nor
        // pymobiledevice3 records what the phone says for a wrong password (idevicebackup2
        // prints "ErrorCode %d: %s").
        let wrong = || answer(207, Some("The password is incorrect."));
        match (old, new) {
            (None, Some(n)) if !g.will_encrypt => {
                g.password = Some(n);
                g.will_encrypt = true;
                answer(0, None)
            }
            (Some(o), n) if g.will_encrypt => {
                if g.password.as_deref() != Some(o.as_str()) {
                    wrong()
                } else {
                    match n {
                        Some(n) => g.password = Some(n),
                        None => {
                            g.password = None;
                            g.will_encrypt = false;
                        }
                    }
                    answer(0, None)
                }
            }
            _ => answer(1, Some("Invalid request for the current backup setting")),
        }
    };
    process_message(s, reply).await
}

async fn backup<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, st: &Arc<Mutex<State>>) -> Res<()> {
    let (udid, files, check, raw) = {
        let g = st.lock().unwrap();
        (
            g.udid.clone(),
            g.files.clone(),
            g.check_free_space,
            g.raw_files.clone(),
        )
    };
    dl_write(s, vec!["DLMessageGetFreeDiskSpace".into()]).await?;
    let free = status(s).await?;
    let need: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    if check
        && free
            .get(3)
            .and_then(|v| v.as_unsigned_integer())
            .unwrap_or(0)
            < need
    {
        // The code and words are this simulator's: idevicebackup2 only prints what the
        // phone says ("ErrorCode %d: %s").
        return process_message(
            s,
            answer(
                105,
                Some("Insufficient free disk space on drive to upload files"),
            ),
        )
        .await;
    }
    // Is there an earlier backup to add to? (There never is in these tests.)
    download(s, vec![format!("{udid}/Status.plist")], 0.0).await?;
    dl_write(
        s,
        vec!["DLMessageCreateDirectory".into(), udid.clone().into()],
    )
    .await?;
    status(s).await?;
    if !raw.is_empty() {
        upload(s, &raw, 1.0).await?;
    }
    let named: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, d)| (format!("{udid}/{n}"), d.clone()))
        .collect();
    // Two batches, as a phone sends many.
    let half = named.len() / 2;
    upload(s, &named[..half], 50.0).await?;
    upload(s, &named[half..], 100.0).await?;
    process_message(s, answer(0, None)).await
}

async fn restore<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    st: &Arc<Mutex<State>>,
    req: &plist::Dictionary,
) -> Res<()> {
    let source = req
        .get("SourceIdentifier")
        .and_then(|v| v.as_string())
        .unwrap_or("")
        .to_string();
    let options = req.get("Options").and_then(|v| v.as_dictionary()).cloned();
    st.lock().unwrap().restore_options = options.clone();
    let mut got = download(
        s,
        vec![
            format!("{source}/Manifest.plist"),
            format!("{source}/Manifest.db"),
            format!("{source}/Status.plist"),
        ],
        5.0,
    )
    .await?;
    if !got.contains_key(&format!("{source}/Manifest.plist")) {
        return process_message(s, answer(2, Some("The backup has no Manifest.plist"))).await;
    }
    let needs = st.lock().unwrap().restore_needs.clone();
    if let Some(pw) = needs {
        let given = options
            .as_ref()
            .and_then(|o| o.get("Password"))
            .and_then(|v| v.as_string());
        if given != Some(pw.as_str()) {
            return process_message(s, answer(207, Some("The password is incorrect."))).await;
        }
    }
    // Every other file: list the folders and ask for each.
    let mut dirs = vec![source.clone()];
    let mut wanted = Vec::new();
    while let Some(d) = dirs.pop() {
        dl_write(s, vec!["DLContentsOfDirectory".into(), d.clone().into()]).await?;
        let listing = status(s).await?;
        if let Some(plist::Value::Dictionary(entries)) = listing.get(3) {
            for (name, e) in entries {
                let p = format!("{d}/{name}");
                match e
                    .as_dictionary()
                    .and_then(|e| e.get("DLFileType"))
                    .and_then(|v| v.as_string())
                {
                    Some("DLFileTypeDirectory") => dirs.push(p),
                    Some("DLFileTypeRegular") if !got.contains_key(&p) => wanted.push(p),
                    _ => {}
                }
            }
        }
    }
    wanted.sort();
    got.extend(download(s, wanted, 80.0).await?);
    st.lock().unwrap().restored = got;
    process_message(s, answer(0, None)).await
}
