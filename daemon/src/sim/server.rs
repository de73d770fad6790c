//! Serving a simulated card to pcscd through vpcd: the card is inserted while connected,
//! answers until stopped, comes back when pcscd restarts, and is inserted or removed on
//! command (signals or the control socket, see [`control`]).

use std::time::{Duration, Instant};

use super::control::{self, Control, Event};
use super::fault::Reply;
use super::vpcd::{self, Connection, Message, Received};
use super::{Counters, SimCard};

/// How long a read waits before the loop looks at signals again.
const POLL: Duration = Duration::from_millis(100);
/// Pause between connection attempts while pcscd is away.
const RECONNECT: Duration = Duration::from_millis(500);

/// Serves `card` at `address` until a stop is asked for; returns the counters.
pub fn serve(card: &mut SimCard, address: &str, inserted: bool, control: &Control) -> Counters {
    let mut want_inserted = inserted;
    let mut connection: Option<Connection> = None;
    let mut next_attempt = Instant::now();
    let mut waiting_logged = false;
    loop {
        for event in control.events() {
            match event {
                Event::Terminate => {
                    if let Some(c) = connection.take() {
                        c.close();
                    }
                    return card.counters();
                }
                Event::Remove => want_inserted = false,
                Event::Insert => want_inserted = true,
            }
        }
        while let Some(request) = control.request() {
            match request.command {
                control::Command::Insert => {
                    want_inserted = true;
                    request.answer("inserted");
                }
                control::Command::Remove => {
                    want_inserted = false;
                    request.answer("removed");
                }
                control::Command::Status => {
                    let state = if connection.is_some() {
                        "inserted"
                    } else {
                        "removed"
                    };
                    request.answer(&format!(
                        "{state}; {}",
                        card.counters().summary(card.link().bit_rate)
                    ));
                }
            }
        }
        if !want_inserted {
            if let Some(c) = connection.take() {
                c.close();
                tracing::info!("card removed");
            }
            std::thread::sleep(POLL);
            continue;
        }
        if connection.is_none() {
            if Instant::now() < next_attempt {
                std::thread::sleep(POLL);
                continue;
            }
            match Connection::connect(address, Duration::from_secs(1), POLL) {
                Ok(c) => {
                    card.reset();
                    connection = Some(c);
                    waiting_logged = false;
                    tracing::info!(vpcd = address, "card inserted");
                }
                Err(e) => {
                    if !waiting_logged {
                        tracing::warn!(vpcd = address, error = %e, "vpcd not reachable (is pcscd with vsmartcard-vpcd running?); retrying");
                        waiting_logged = true;
                    }
                    next_attempt = Instant::now() + RECONNECT;
                }
            }
            continue;
        }
        let Some(conn) = connection.as_mut() else {
            continue;
        };
        let received = match conn.receive() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "vpcd connection failed; reconnecting");
                Received::Closed
            }
        };
        let started = Instant::now();
        match received {
            Received::Idle => {}
            Received::Closed => {
                connection = None;
                next_attempt = Instant::now() + RECONNECT;
                tracing::info!("vpcd closed the connection (pcscd stopped?); reconnecting");
            }
            Received::Message(message) => {
                let outcome = answer(card, conn, message, started, control);
                if let Err(e) = outcome {
                    tracing::warn!(error = %e, "vpcd connection failed; reconnecting");
                    connection = None;
                    next_attempt = Instant::now() + RECONNECT;
                } else if let Ok(false) = outcome {
                    if let Some(c) = connection.take() {
                        c.close();
                    }
                    want_inserted = false;
                    tracing::info!("card removed by fault; SIGUSR2 or `insert` puts it back");
                }
            }
        }
    }
}

/// Handles one message; `Ok(false)` when the card left the field.
fn answer(
    card: &mut SimCard,
    conn: &mut Connection,
    message: Message,
    started: Instant,
    control: &Control,
) -> std::io::Result<bool> {
    match message {
        Message::PowerOff | Message::PowerOn | Message::Reset => {
            tracing::debug!(?message, "power");
            card.reset();
        }
        Message::GetAtr => conn.send(card.atr())?,
        Message::UnknownControl(_) | Message::Empty => {
            tracing::debug!(?message, "ignored");
        }
        Message::Apdu(apdu) => match card.respond(&apdu) {
            Reply::Remove => return Ok(false),
            Reply::Answer {
                mut response,
                delay,
            } => {
                wait_until(started + delay, control);
                // Pulled while it stalled: it leaves without answering.
                if control.removal_pending() {
                    return Ok(false);
                }
                if response.len() > vpcd::MAX_PAYLOAD {
                    response = vec![0x67, 0x00];
                }
                conn.send(&response)?;
            }
        },
    }
    Ok(true)
}

/// Sleeps until `deadline`, in short steps so a stop or a removal (SIGUSR1) is not held
/// up: a stalled card can be pulled.
fn wait_until(deadline: Instant, control: &Control) {
    loop {
        let now = Instant::now();
        if now >= deadline || control.terminating() || control.removal_pending() {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
    }
}
