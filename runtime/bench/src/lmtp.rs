//! The LMTP load generator: `connections` clients share a counter of transactions; each
//! takes the next number, sends that corpus message (cycled) with a unique Message-ID to
//! `recipients_per_message` mailboxes (round robin), and reads one final reply per
//! accepted recipient. MAIL, the RCPTs and DATA are pipelined when the server offers
//! PIPELINING, as Postfix's LMTP client does. Latency is measured from the moment the
//! final `.` is flushed to each final reply.
//!
//! This is a load generator, not a protocol test: it trusts the server to speak LMTP and
//! counts any unexpected reply as a failure of that transaction.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::corpus::Corpus;
use crate::stats::Latencies;

/// The envelope sender of every message.
const SENDER: &str = "load@caliopen-bench.invalid";

/// What to send where.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub addr: SocketAddr,
    pub connections: usize,
    /// Transactions in all.
    pub messages: u64,
    pub recipients_per_message: usize,
    /// The recipient addresses, used round robin.
    pub mailboxes: Vec<String>,
    /// Longest wait for one reply.
    pub timeout: Duration,
}

/// What the server answered.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// From the first connection to the last final reply.
    pub elapsed: Duration,
    /// Transactions whose every recipient got a 2xx final reply.
    pub messages_accepted: u64,
    /// 2xx final replies.
    pub deliveries_accepted: u64,
    /// Unexpected replies: code and enhanced code → (count, first full reply).
    pub failures: BTreeMap<String, (u64, String)>,
    /// End of data → final reply, one per accepted delivery.
    pub latencies: Latencies,
    /// Message bytes sent.
    pub bytes: u64,
}

/// Runs the load to its end; `progress` counts accepted transactions as they come.
pub async fn run(
    spec: &LoadSpec,
    corpus: Arc<Corpus>,
    progress: Arc<AtomicU64>,
) -> anyhow::Result<LoadResult> {
    if spec.recipients_per_message == 0 || spec.recipients_per_message > spec.mailboxes.len() {
        bail!("recipients per message must be between 1 and the number of mailboxes");
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..spec.connections.max(1) {
        let (spec, corpus, next, progress) =
            (spec.clone(), corpus.clone(), next.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&spec).await?;
            let mut partial = Partial::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= spec.messages {
                    break;
                }
                conn.transaction(&spec, &corpus, n, &mut partial).await?;
                if partial.last_ok {
                    progress.fetch_add(1, Ordering::Relaxed);
                }
            }
            conn.quit().await;
            anyhow::Ok(partial)
        }));
    }
    let mut result = LoadResult::default();
    let mut latencies = Vec::new();
    for task in tasks {
        let partial = task.await.context("a load connection panicked")??;
        result.messages_accepted += partial.messages_accepted;
        result.deliveries_accepted += partial.latencies.len() as u64;
        result.bytes += partial.bytes;
        latencies.extend(partial.latencies);
        for (k, (n, sample)) in partial.failures {
            result.failures.entry(k).or_insert((0, sample)).0 += n;
        }
    }
    result.elapsed = start.elapsed();
    result.latencies = Latencies::new(latencies);
    Ok(result)
}

#[derive(Debug, Default)]
struct Partial {
    messages_accepted: u64,
    latencies: Vec<Duration>,
    failures: BTreeMap<String, (u64, String)>,
    bytes: u64,
    last_ok: bool,
}

impl Partial {
    fn fail(&mut self, reply: &Reply) {
        let key: String = reply
            .last
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        self.failures
            .entry(key)
            .or_insert((0, reply.last.clone()))
            .0 += 1;
    }
}

/// A reply: its code and last line.
#[derive(Debug)]
struct Reply {
    code: u16,
    last: String,
    lines: Vec<String>,
}

impl Reply {
    fn positive(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
    pipelining: bool,
    timeout: Duration,
    line: Vec<u8>,
}

impl Connection {
    async fn open(spec: &LoadSpec) -> anyhow::Result<Self> {
        let stream = tokio::time::timeout(spec.timeout, TcpStream::connect(spec.addr))
            .await
            .with_context(|| format!("connecting to {} timed out", spec.addr))?
            .with_context(|| format!("cannot connect to {}", spec.addr))?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut conn = Self {
            reader: BufReader::with_capacity(16 * 1024, read),
            writer: BufWriter::with_capacity(64 * 1024, write),
            pipelining: false,
            timeout: spec.timeout,
            line: Vec::new(),
        };
        let greeting = conn.reply().await?;
        if greeting.code != 220 {
            bail!("unexpected greeting: {}", greeting.last);
        }
        conn.send(b"LHLO caliopen-bench.invalid\r\n").await?;
        let lhlo = conn.reply().await?;
        if lhlo.code != 250 {
            bail!("LHLO refused: {}", lhlo.last);
        }
        conn.pipelining = lhlo.lines.iter().any(|l| {
            l.get(4..)
                .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
        });
        Ok(conn)
    }

    async fn transaction(
        &mut self,
        spec: &LoadSpec,
        corpus: &Corpus,
        n: u64,
        out: &mut Partial,
    ) -> anyhow::Result<()> {
        out.last_ok = false;
        let message = &corpus.messages[(n % corpus.messages.len() as u64) as usize];
        let count = spec.recipients_per_message;
        let rcpts: Vec<String> = (0..count)
            .map(|j| {
                let i = (n as usize).wrapping_mul(count).wrapping_add(j) % spec.mailboxes.len();
                format!("RCPT TO:<{}>\r\n", spec.mailboxes[i])
            })
            .collect();
        let mail = format!("MAIL FROM:<{SENDER}>\r\n");
        let (mail_reply, rcpt_replies, data_reply) = if self.pipelining {
            let mut batch = mail.into_bytes();
            rcpts
                .iter()
                .for_each(|r| batch.extend_from_slice(r.as_bytes()));
            batch.extend_from_slice(b"DATA\r\n");
            self.send(&batch).await?;
            let mail = self.reply().await?;
            let mut rcpt = Vec::with_capacity(count);
            for _ in 0..count {
                rcpt.push(self.reply().await?);
            }
            (mail, rcpt, self.reply().await?)
        } else {
            let mail = self.command(mail.as_bytes()).await?;
            let mut rcpt = Vec::with_capacity(count);
            for r in &rcpts {
                rcpt.push(self.command(r.as_bytes()).await?);
            }
            (mail, rcpt, self.command(b"DATA\r\n").await?)
        };
        if !mail_reply.positive() {
            out.fail(&mail_reply);
        }
        rcpt_replies
            .iter()
            .filter(|r| !r.positive())
            .for_each(|r| out.fail(r));
        if data_reply.code != 354 {
            out.fail(&data_reply);
            self.command(b"RSET\r\n").await?;
            return Ok(());
        }
        let accepted = rcpt_replies.iter().filter(|r| r.positive()).count();
        let id = format!("Message-ID: <bench-{n}@caliopen-bench.invalid>\r\n");
        self.writer.write_all(id.as_bytes()).await?;
        self.writer.write_all(message).await?;
        self.send(b".\r\n").await?;
        out.bytes += (id.len() + message.len()) as u64;
        let end_of_data = Instant::now();
        let mut all_ok = accepted == count && mail_reply.positive();
        for _ in 0..accepted {
            let reply = self.reply().await?;
            if reply.positive() {
                out.latencies.push(end_of_data.elapsed());
            } else {
                out.fail(&reply);
                all_ok = false;
            }
        }
        if all_ok {
            out.messages_accepted += 1;
            out.last_ok = true;
        }
        Ok(())
    }

    async fn command(&mut self, line: &[u8]) -> anyhow::Result<Reply> {
        self.send(line).await?;
        self.reply().await
    }

    async fn send(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.writer.write_all(bytes).await?;
        self.writer.flush().await.context("writing to the server")
    }

    async fn reply(&mut self) -> anyhow::Result<Reply> {
        let mut lines = Vec::new();
        loop {
            self.line.clear();
            let n =
                tokio::time::timeout(self.timeout, self.reader.read_until(b'\n', &mut self.line))
                    .await
                    .with_context(|| format!("no reply from the server in {:?}", self.timeout))??;
            if n == 0 {
                bail!("the server closed the connection (after {lines:?})");
            }
            let text = String::from_utf8_lossy(&self.line).trim_end().to_owned();
            let code = text.get(..3).and_then(|c| c.parse::<u16>().ok());
            let last = text.as_bytes().get(3) != Some(&b'-');
            lines.push(text);
            if last {
                let last = lines.last().cloned().unwrap_or_default();
                let code = code.with_context(|| format!("not a reply: {last:?}"))?;
                return Ok(Reply { code, last, lines });
            }
        }
    }

    async fn quit(&mut self) {
        if self.send(b"QUIT\r\n").await.is_ok() {
            let _ = self.reply().await;
        }
    }
}
