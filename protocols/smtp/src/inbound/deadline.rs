//! The deadlines of one connection: how long the socket loop may wait for input, so that no
//! client holds a connection slot by sending slowly. A timeout per read would not do: a
//! client sending one byte just before each read times out never would.
//!
//! - a whole command line within `command_timeout` of the last thing the session did (bytes
//!   that do not complete a line do not move it);
//! - outside DATA, a message finished within `idle_timeout` of the greeting or of the end of
//!   the previous message (NOOP, RSET and the like do not move it);
//! - inside DATA, more bytes within `data_timeout` of each read (RFC 5321 §4.5.3.2.5);
//! - a transaction, from its MAIL to the end of its data, within `transaction_timeout`.
//!
//! Time spent waiting for core (recipient lookups, storing) is not the client's: the loop
//! does not read meanwhile, and the events that follow count as progress.

use std::time::Duration;

use tokio::time::Instant;

use crate::settings::InboundSettings;

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expired {
    Command,
    Idle,
    Data,
    Transaction,
}

/// The clocks of one connection.
#[derive(Debug)]
pub(super) struct Deadlines {
    command: Duration,
    data: Duration,
    transaction: Duration,
    idle: Duration,
    /// When the session last produced an event.
    last_progress: Instant,
    /// When the connection opened or its last message ended.
    idle_since: Instant,
    /// When the open transaction began.
    transaction_since: Option<Instant>,
    in_data: bool,
}

impl Deadlines {
    pub(super) fn new(settings: &InboundSettings, now: Instant) -> Self {
        Self {
            command: settings.command_timeout,
            data: settings.data_timeout,
            transaction: settings.transaction_timeout,
            idle: settings.idle_timeout,
            last_progress: now,
            idle_since: now,
            transaction_since: None,
            in_data: false,
        }
    }

    /// The session produced an event: a command was taken, a message ended or went on.
    pub(super) fn progress(&mut self, now: Instant) {
        self.last_progress = now;
    }

    /// Follows the session's phase once its events are drained: a transaction begins or
    /// ends, a message ends.
    pub(super) fn follow(&mut self, in_transaction: bool, in_data: bool, now: Instant) {
        if self.in_data && !in_data {
            self.idle_since = now;
            self.transaction_since = None;
        }
        self.in_data = in_data;
        if in_transaction || in_data {
            self.transaction_since.get_or_insert(now);
        } else {
            self.transaction_since = None;
        }
    }

    /// Until when the loop may wait for input, and which deadline that is.
    pub(super) fn next(&self, now: Instant) -> (Instant, Expired) {
        let transaction = self
            .transaction_since
            .map(|since| (since + self.transaction, Expired::Transaction));
        let candidates = if self.in_data {
            [Some((now + self.data, Expired::Data)), transaction, None]
        } else {
            [
                Some((self.last_progress + self.command, Expired::Command)),
                Some((self.idle_since + self.idle, Expired::Idle)),
                transaction,
            ]
        };
        candidates
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
            .unwrap_or((now + self.command, Expired::Command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> InboundSettings {
        InboundSettings {
            command_timeout: Duration::from_secs(10),
            data_timeout: Duration::from_secs(20),
            transaction_timeout: Duration::from_secs(100),
            idle_timeout: Duration::from_secs(30),
            ..InboundSettings::default()
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_trickled_line_gets_no_more_than_the_command_timeout() {
        let t0 = Instant::now();
        let deadlines = Deadlines::new(&settings(), t0);
        // Bytes keep coming but no event: the deadline stays.
        assert_eq!(deadlines.next(t0 + S(9)), (t0 + S(10), Expired::Command));
    }

    #[test]
    fn commands_without_a_message_end_at_the_idle_timeout() {
        let t0 = Instant::now();
        let mut deadlines = Deadlines::new(&settings(), t0);
        for second in (8..=24).step_by(8) {
            // A NOOP every 8 seconds.
            deadlines.progress(t0 + S(second));
            deadlines.follow(false, false, t0 + S(second));
        }
        assert_eq!(deadlines.next(t0 + S(24)), (t0 + S(30), Expired::Idle));
        // A transaction begun and reset does not give more time either.
        deadlines.follow(true, false, t0 + S(25));
        deadlines.follow(false, false, t0 + S(26));
        assert_eq!(deadlines.next(t0 + S(26)), (t0 + S(30), Expired::Idle));
    }

    #[test]
    fn data_is_bounded_per_read_and_by_the_transaction() {
        let t0 = Instant::now();
        let mut deadlines = Deadlines::new(&settings(), t0);
        deadlines.follow(true, false, t0 + S(1)); // MAIL
        deadlines.follow(true, true, t0 + S(2)); // DATA
        assert_eq!(deadlines.next(t0 + S(2)), (t0 + S(22), Expired::Data));
        assert_eq!(
            deadlines.next(t0 + S(90)),
            (t0 + S(101), Expired::Transaction)
        );
        // The message ends: the idle clock starts again, the transaction clock stops.
        deadlines.follow(false, false, t0 + S(95));
        deadlines.progress(t0 + S(95));
        assert_eq!(deadlines.next(t0 + S(95)), (t0 + S(105), Expired::Command));
        deadlines.progress(t0 + S(120));
        assert_eq!(deadlines.next(t0 + S(120)), (t0 + S(125), Expired::Idle));
    }

    #[test]
    fn a_new_transaction_in_the_same_read_as_the_end_of_data_starts_its_own_clock() {
        let t0 = Instant::now();
        let mut deadlines = Deadlines::new(&settings(), t0);
        deadlines.follow(true, true, t0 + S(1));
        deadlines.follow(true, false, t0 + S(50));
        deadlines.progress(t0 + S(50));
        deadlines.follow(true, true, t0 + S(51));
        assert_eq!(deadlines.next(t0 + S(60)), (t0 + S(80), Expired::Data));
        assert_eq!(
            deadlines.next(t0 + S(140)),
            (t0 + S(150), Expired::Transaction)
        );
    }
}
