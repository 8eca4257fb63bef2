//! What the benchmarks share: a deterministic generator and a Zipf-like vocabulary, so every
//! corpus is the same on every machine (the shape of ../shared/corpus/gen_words.py).

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` distinct lowercase pseudo-words with Zipf weights 1/rank (frequent words are shorter,
/// as in natural text).
pub struct Zipf {
    pub words: Vec<String>,
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(rng: &mut Rng, n: usize) -> Zipf {
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(n);
        while words.len() < n {
            let rank = words.len() + 1;
            let len = 2 + (rank as f64).log10() as usize + (rng.next() % 4) as usize;
            let w: String = (0..len).map(|_| (b'a' + (rng.next() % 26) as u8) as char).collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut acc = 0.0;
        let cdf = (1..=n)
            .map(|r| {
                acc += 1.0 / r as f64;
                acc
            })
            .collect();
        Zipf { words, cdf }
    }

    /// A word drawn with the Zipf weights.
    pub fn sample(&self, rng: &mut Rng) -> &str {
        let total = self.cdf.last().copied().unwrap_or(0.0);
        let x = rng.unit() * total;
        &self.words[self.cdf.partition_point(|&c| c < x).min(self.words.len() - 1)]
    }
}

/// `yyyy-MM-dd HH:mm:ss` as µs since the epoch (UTC), for the baselines that share no code with
/// streamc.
#[allow(dead_code)]
pub fn timestamp_us(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000_000 + ss * 1_000_000)
}

/// The median of some run times.
#[allow(dead_code)]
pub fn median(mut v: Vec<std::time::Duration>) -> std::time::Duration {
    v.sort();
    v[v.len() / 2]
}
