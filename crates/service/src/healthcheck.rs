//! `--healthcheck`: asks the running service's `/health` over plain HTTP, so that container
//! images need no curl. Exit status 0 when healthy.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Probes `GET /health` on `listen_addr` (a wildcard address is probed on loopback).
pub fn probe(listen_addr: SocketAddr) -> Result<(), String> {
    let mut target = listen_addr;
    if target.ip().is_unspecified() {
        target.set_ip(if target.is_ipv4() {
            Ipv4Addr::LOCALHOST.into()
        } else {
            Ipv6Addr::LOCALHOST.into()
        });
    }
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&target, timeout)
        .map_err(|error| format!("cannot connect to {target}: {error}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|error| error.to_string())?;
    stream
        .write_all(format!("GET /health HTTP/1.0\r\nHost: {target}\r\n\r\n").as_bytes())
        .map_err(|error| format!("cannot send to {target}: {error}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|error| format!("no answer from {target}: {error}"))?;
    let status_line = answer.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("{target}/health answered '{status_line}'"))
    }
}
