//! `poll_oneoff`: clock subscriptions and fd read/write readiness.
//!
//! Files and in-memory stdio are always ready; inherited stdio is polled with `ppoll`. Clock
//! subscriptions accept the realtime and monotonic clocks (others are `EINVAL`, as Wasmtime);
//! a clock event is reported only once its deadline has passed. Like Wasmtime, a subscription
//! on a closed fd or a directory fails the whole call with `EBADF`, and `nbytes` is reported as
//! 1 for ready descriptors.

use std::time::Duration;

use super::clock::{now, MONOTONIC, REALTIME};
use super::errno::{Errno, WResult};
use super::fd::Entry;
use super::mem::Mem;
use super::types::{event, Params};
use super::WasiCtx;

/// Size of one `subscription`.
const SUB_SIZE: u32 = 48;
/// Size of one `event`.
const EVENT_SIZE: u32 = 32;

/// What one subscription waits for.
enum Wait {
    /// A monotonic deadline in nanoseconds.
    Clock(u64),
    /// Already ready (files, in-memory stdio).
    Ready,
    /// A host descriptor and the `poll` events wanted.
    Host(i32, i16),
}

/// One decoded subscription.
struct Sub {
    userdata: u64,
    /// `eventtype`: 0 clock, 1 fd_read, 2 fd_write.
    ty: u8,
    wait: Wait,
}

/// Decodes subscription bytes (see `subscription` in the witx).
fn decode(ctx: &mut WasiCtx, b: &[u8; 48]) -> WResult<Sub> {
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    let userdata = u64_at(0);
    let ty = b[8];
    let wait = match ty {
        0 => {
            let (id, timeout) = (u32_at(16), u64_at(24));
            let flags = u16::from_le_bytes([b[40], b[41]]);
            if flags & !1 != 0 {
                return Err(Errno::Inval.into());
            }
            let mono = now(libc::CLOCK_MONOTONIC)?;
            let deadline = match (id, flags & 1 != 0) {
                (_, false) if id == u32::from(REALTIME) || id == u32::from(MONOTONIC) => {
                    mono.saturating_add(timeout)
                }
                (x, true) if x == u32::from(MONOTONIC) => timeout,
                (x, true) if x == u32::from(REALTIME) => {
                    mono.saturating_add(timeout.saturating_sub(now(libc::CLOCK_REALTIME)?))
                }
                _ => return Err(Errno::Inval.into()),
            };
            Wait::Clock(deadline)
        }
        1 | 2 => {
            let read = ty == 1;
            match ctx.fds.get(u32_at(16))? {
                Entry::Stdin(i) if read => i
                    .host_fd()
                    .map_or(Wait::Ready, |fd| Wait::Host(fd, libc::POLLIN)),
                Entry::Stdout(o) if !read => o
                    .host_fd()
                    .map_or(Wait::Ready, |fd| Wait::Host(fd, libc::POLLOUT)),
                Entry::File(_) => Wait::Ready,
                _ => return Err(Errno::Badf.into()),
            }
        }
        _ => return Err(Errno::Inval.into()),
    };
    Ok(Sub { userdata, ty, wait })
}

/// Events ready now, after waiting at most `timeout` (nanoseconds; `None` = no limit).
fn collect(subs: &[Sub], timeout: Option<u64>) -> WResult<Vec<[u8; 32]>> {
    let hosts: Vec<usize> = (0..subs.len())
        .filter(|&i| matches!(subs[i].wait, Wait::Host(..)))
        .collect();
    let mut fds: Vec<libc::pollfd> = hosts
        .iter()
        .map(|&i| match subs[i].wait {
            Wait::Host(fd, events) => libc::pollfd {
                fd,
                events,
                revents: 0,
            },
            _ => unreachable!(),
        })
        .collect();
    if fds.is_empty() {
        if let Some(ns) = timeout.filter(|&ns| ns > 0) {
            std::thread::sleep(Duration::from_nanos(ns));
        }
    } else {
        match super::sys::ppoll(&mut fds, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Errno::from(e).into()),
        }
    }
    let mono = now(libc::CLOCK_MONOTONIC)?;
    let mut out = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        let ready = match s.wait {
            Wait::Clock(deadline) => deadline <= mono,
            Wait::Ready => true,
            Wait::Host(..) => {
                let k = hosts.iter().position(|&h| h == i).unwrap_or(0);
                fds[k].revents != 0
            }
        };
        if ready {
            let (nbytes, flags) = match s.wait {
                Wait::Clock(_) => (0, 0),
                // Wasmtime reports a ready host descriptor as one byte, never as hung up.
                Wait::Host(..) => (1, 0),
                Wait::Ready => (1, 0),
            };
            out.push(event(s.userdata, 0, s.ty, nbytes, flags));
        }
    }
    Ok(out)
}

/// `poll_oneoff(in, out, nsubscriptions, nevents)`.
pub(crate) fn poll_oneoff(ctx: &mut WasiCtx, mem: &mut Mem<'_>, p: Params<'_>) -> WResult<()> {
    let (inp, outp, n) = (p.u32(0), p.u32(1), p.u32(2));
    if n == 0 {
        return Err(Errno::Inval.into());
    }
    mem.check_array(inp, n, SUB_SIZE, 8)?;
    mem.check_array(outp, n, EVENT_SIZE, 8)?;
    let mut subs = Vec::with_capacity(n as usize);
    for i in 0..n {
        let raw: [u8; 48] = mem.read_struct(inp + i * SUB_SIZE, 8)?;
        subs.push(decode(ctx, &raw)?);
    }
    let mut events = collect(&subs, Some(0))?;
    while events.is_empty() {
        let mono = now(libc::CLOCK_MONOTONIC)?;
        let timeout = subs
            .iter()
            .filter_map(|s| match s.wait {
                Wait::Clock(d) => Some(d.saturating_sub(mono)),
                _ => None,
            })
            .min();
        events = collect(&subs, timeout)?;
    }
    for (i, ev) in events.iter().enumerate() {
        mem.write_struct(outp + i as u32 * EVENT_SIZE, ev, 8)?;
    }
    mem.write_u32(p.u32(3), events.len() as u32)
}
